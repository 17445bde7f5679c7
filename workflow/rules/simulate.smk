# The built-in demo study: simulated participants' EMEG and transforms with planted effects.
# Only included when config["dataset"] is "demo".


rule simulate:
    output:
        truth=STUDY.truth,
        sensor=expand(STUDY.emeg["sensor"], participant=PARTICIPANTS),
        source_lh=expand(STUDY.emeg["source"], participant=PARTICIPANTS),
        source_rh=expand(STUDY.emeg["source"].replace("-lh.stc", "-rh.stc"), participant=PARTICIPANTS),
        transforms=list(TRANSFORMS.values()),
    params:
        data_dir=lambda wildcards, output: str(Path(output.truth).parent),
        seed=config["demo"]["seed"],
        spec=f"--spec {config['demo']['spec']}" if config["demo"]["spec"] else "",
    log:
        f"{RESULTS}/logs/simulate.log",
    benchmark:
        f"{RESULTS}/benchmarks/simulate.tsv"
    shell:
        kymata(
            "simulate --out {params.data_dir} --seed {params.seed} {params.spec} --overwrite > {log} 2>&1"
        )
