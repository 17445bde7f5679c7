# Figures: the expression plot per participant and channel space, and an IPPM plot per denoiser.
# Plot options are rule parameters, so changing one redraws the figures and nothing else.


rule plot_expression:
    input:
        f"{RESULTS}/{{participant}}/expression-{{space}}.nkg",
    output:
        report(
            f"{RESULTS}/{{participant}}/plots/expression-{{space}}.{{fmt}}",
            caption="../report/expression.rst",
            category=lambda wildcards: "Group average" if wildcards.participant == GROUP else "Participants",
            subcategory=lambda wildcards: None if wildcards.participant == GROUP else wildcards.participant,
            labels={
                "participant": "{participant}",
                "result": "expression plot",
                "space": "{space}",
                **({"format": "{fmt}"} if len(config["plots"]["formats"]) > 1 else {}),
            },
        ),
    params:
        options=lambda wildcards: plot_options(
            "expression", f"{wildcards.participant}, {wildcards.space} space"
        ),
    log:
        f"{RESULTS}/logs/plots/{{participant}}/expression-{{space}}.{{fmt}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/plots/{{participant}}/expression-{{space}}.{{fmt}}.tsv"
    group: "plots_{participant}"  # see combine.smk
    shell:
        kymata(
            "plot expression --expression {input} --options {params.options:q}"
            " --out {output} --overwrite > {log} 2>&1"
        )


rule plot_ippm:
    input:
        ippm=f"{RESULTS}/{{participant}}/ippm/{{denoiser}}-{{space}}.json",
        expression=f"{RESULTS}/{{participant}}/expression-{{space}}.nkg",
        hierarchy=f"{RESULTS}/ippm/hierarchy.json",
    output:
        report(
            f"{RESULTS}/{{participant}}/plots/ippm-{{denoiser}}-{{space}}.{{fmt}}",
            caption="../report/ippm.rst",
            category=lambda wildcards: "Group average" if wildcards.participant == GROUP else "Participants",
            subcategory=lambda wildcards: None if wildcards.participant == GROUP else wildcards.participant,
            labels={
                "participant": "{participant}",
                "result": "IPPM ({denoiser})",
                "space": "{space}",
                **({"format": "{fmt}"} if len(config["plots"]["formats"]) > 1 else {}),
            },
        ),
    params:
        options=lambda wildcards: plot_options(
            "ippm", f"IPPM of {wildcards.participant}, {wildcards.space} space ({wildcards.denoiser})"
        ),
    log:
        f"{RESULTS}/logs/plots/{{participant}}/ippm-{{denoiser}}-{{space}}.{{fmt}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/plots/{{participant}}/ippm-{{denoiser}}-{{space}}.{{fmt}}.tsv"
    group: "plots_{participant}"  # see combine.smk
    shell:
        kymata(
            "plot ippm --ippm {input.ippm} --expression {input.expression}"
            " --hierarchy {input.hierarchy} --options {params.options:q}"
            " --out {output} --overwrite > {log} 2>&1"
        )
