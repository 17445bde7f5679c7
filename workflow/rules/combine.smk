# Merge each participant's shards into one ExpressionSet per channel space, and summarise it.


rule combine:
    input:
        combine_shards,
    output:
        f"{RESULTS}/{{participant}}/expression-{{space}}.nkg",
    log:
        f"{RESULTS}/logs/combine/{{participant}}-{{space}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/combine/{{participant}}-{{space}}.tsv"
    # On a cluster, a participant's combine jobs run as one cluster job, its IPPM jobs as another and its
    # plots as a third (profiles/slurm, sge). No group holds two jobs of which one needs the other.
    group: "combine_{participant}"
    resources:
        mem_mb=on_retry(lambda wildcards, input: 1024 + 20 * int(input.size_mb), RETRY_MEM),
        runtime=on_retry(30, RETRY_TIME),
    shell:
        kymata(
            "combine --out {output} --overwrite {input} > {log} 2>&1"
        )


rule summary:
    localrule: True
    input:
        expressions=expand(f"{RESULTS}/{{{{participant}}}}/expression-{{space}}.nkg", space=SPACES),
        truth=truth_file(),
    output:
        json=f"{RESULTS}/{{participant}}/summary.json",
        text=report(
            f"{RESULTS}/{{participant}}/summary.txt",
            caption="../report/summary.rst",
            category="Summaries",
            labels={"participant": "{participant}"},
        ),
    params:
        truth=lambda wildcards, input: f"--truth {input.truth}" if input.truth else "",
    log:
        f"{RESULTS}/logs/summary/{{participant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/summary/{{participant}}.tsv"
    shell:
        kymata(
            "summary --participant {wildcards.participant} {params.truth}"
            " --out {output.json} --text {output.text} --overwrite {input.expressions} > {log} 2>&1"
        )


rule config_snapshot:
    localrule: True
    output:
        report(
            f"{RESULTS}/config.yaml",
            caption="../report/config.rst",
            category="Configuration",
            labels={"file": "configuration (YAML)"},
        ),
    params:
        config=config,
    log:
        f"{RESULTS}/logs/config_snapshot.log",
    benchmark:
        f"{RESULTS}/benchmarks/config_snapshot.tsv"
    run:
        import yaml

        Path(output[0]).write_text(yaml.safe_dump(params.config, sort_keys=False))
