# One gridsearch job per participant x transform x hemisphere (lh/rh in source space, scalp in
# sensor space), each writing one .nkg shard.


rule gridsearch:
    input:
        emeg=gridsearch_emeg,
        transform=lambda wildcards: TRANSFORMS[wildcards.transform],
    output:
        nkg=f"{RESULTS}/{{participant}}/shards/{{transform}}.{{hemi}}.nkg",
        **(
            {"dense": f"{RESULTS}/{{participant}}/dense/{{transform}}.{{hemi}}.h5"}
            if GRIDSEARCH["save_dense"]
            else {}
        ),
    params:
        space=lambda wildcards: SPACE_OF_HEMI[wildcards.hemi],
        hemi=lambda wildcards: "" if wildcards.hemi == "scalp" else f"--hemi {wildcards.hemi}",
        transform_rate=STUDY["transform_rate"],
        flags=gridsearch_flags(),
        memory_budget_mb=GRIDSEARCH["memory_budget_mb"],
        dense=lambda wildcards, output: f"--dense-out {output.dense}" if GRIDSEARCH["save_dense"] else "",
    log:
        f"{RESULTS}/logs/gridsearch/{{participant}}/{{transform}}.{{hemi}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/gridsearch/{{participant}}/{{transform}}.{{hemi}}.tsv"
    threads: GRIDSEARCH["threads"]
    resources:
        mem_mb=gridsearch_mem_mb,
        runtime=GRIDSEARCH["runtime_min"],
    shell:
        "kymata-core gridsearch --emeg {input.emeg[0]} --space {params.space} {params.hemi}"
        " --transform {input.transform} --transform-name {wildcards.transform}"
        " --transform-rate {params.transform_rate} {params.flags}"
        " --memory-budget-mb {params.memory_budget_mb} --threads {threads} {params.dense}"
        " --out {output.nkg} --overwrite > {log} 2>&1"
