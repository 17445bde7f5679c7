# One gridsearch job per participant x transform x hemisphere (lh/rh in source space, scalp in
# sensor space), each writing one .nkg shard.


rule gridsearch:
    input:
        unpack(gridsearch_inputs),
    output:
        nkg=f"{RESULTS}/{{participant}}/shards/{{transform}}.{{hemi}}.nkg",
        **(
            {"dense": f"{RESULTS}/{{participant}}/dense/{{transform}}.{{hemi}}.h5"}
            if GRIDSEARCH["save_dense"]
            else {}
        ),
    params:
        args=GRIDSEARCH_FLAGS,
        dense_out=lambda wildcards, output: (
            f"--dense-out {output.dense}" if GRIDSEARCH["save_dense"] else ""
        ),
    log:
        f"{RESULTS}/logs/gridsearch/{{participant}}/{{transform}}.{{hemi}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/gridsearch/{{participant}}/{{transform}}.{{hemi}}.tsv"
    threads: GRIDSEARCH["threads"]
    # On a cluster, several of a participant's gridsearch jobs run as one cluster job, one after another
    # (group-components in profiles/slurm and profiles/sge); locally groups play no part.
    group: "gridsearch_{participant}"
    resources:
        mem_mb=on_retry(gridsearch_mem_mb, RETRY_MEM),
        runtime=on_retry(GRIDSEARCH["runtime_min"], RETRY_TIME),
    shell:
        kymata(
            "gridsearch --emeg {input.emeg[0]} --transform {input.transform} {params.args} {params.dense_out}"
            " --threads {threads} --out {output.nkg} --overwrite > {log} 2>&1"
        )
