# IPPMs: one per participant x denoiser x channel space, from the combined expression set.


rule hierarchy:
    localrule: True
    output:
        report(
            f"{RESULTS}/ippm/hierarchy.json",
            caption="../report/hierarchy.rst",
            category="Configuration",
            labels={"file": "IPPM hierarchy (JSON)"},
        ),
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
        json=report(
            f"{RESULTS}/{{participant}}/ippm/{{denoiser}}-{{space}}.json",
            caption="../report/ippm-json.rst",
            category=lambda wildcards: "Group average" if wildcards.participant == GROUP else "Participants",
            subcategory=lambda wildcards: None if wildcards.participant == GROUP else wildcards.participant,
            labels={"participant": "{participant}", "result": "IPPM JSON ({denoiser})", "space": "{space}"},
        ),
        # written by the command beside the JSON (kymata-core info reads it)
        provenance=f"{RESULTS}/{{participant}}/ippm/{{denoiser}}-{{space}}.provenance.json",
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
    group: "ippm_{participant}"  # see combine.smk
    resources:
        mem_mb=on_retry(lambda wildcards, input: 1024 + 10 * int(input.size_mb), RETRY_MEM),
        runtime=on_retry(30, RETRY_TIME),
    shell:
        kymata(
            "ippm --expression {input.expression} --hierarchy {input.hierarchy}"
            " --denoiser {wildcards.denoiser} --params {params.denoiser_params:q} {params.merge} {params.truth}"
            " --out {output.json} --overwrite > {log} 2>&1"
        )
