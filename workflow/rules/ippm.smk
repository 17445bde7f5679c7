# IPPMs: one per participant x denoiser x channel space, from the combined expression set.


rule hierarchy:
    output:
        f"{RESULTS}/ippm/hierarchy.json",
    params:
        hierarchy=HIERARCHY,
    log:
        f"{RESULTS}/logs/ippm/hierarchy.log",
    benchmark:
        f"{RESULTS}/benchmarks/ippm/hierarchy.tsv"
    run:
        Path(output[0]).write_text(json.dumps(params.hierarchy, indent=2, sort_keys=True) + "\n")


rule ippm:
    input:
        expression=f"{RESULTS}/{{participant}}/expression-{{space}}.nkg",
        hierarchy=f"{RESULTS}/ippm/hierarchy.json",
        truth=truth_file(),
    output:
        json=f"{RESULTS}/{{participant}}/ippm/{{denoiser}}-{{space}}.json",
        **(
            {"check": f"{RESULTS}/{{participant}}/ippm/{{denoiser}}-{{space}}.check.json"}
            if STUDY.truth
            else {}
        ),
    params:
        denoiser_params=lambda wildcards: json.dumps(DENOISER_PARAMS.get(wildcards.denoiser, {}), sort_keys=True),
        merge="--merge-hemispheres" if config["ippm"]["merge_hemispheres"] else "",
        truth=lambda wildcards, input: f"--truth {input.truth}" if input.truth else "",
    log:
        f"{RESULTS}/logs/ippm/{{participant}}/{{denoiser}}-{{space}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/ippm/{{participant}}/{{denoiser}}-{{space}}.tsv"
    resources:
        mem_mb=lambda wildcards, input: 1024 + 10 * int(input.size_mb),
        runtime=30,
    shell:
        KYMATA + " ippm --expression {input.expression} --hierarchy {input.hierarchy}"
        " --denoiser {wildcards.denoiser} --params {params.denoiser_params:q} {params.merge} {params.truth}"
        " --out {output.json} --overwrite > {log} 2>&1"
