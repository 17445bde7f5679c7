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
    log:
        f"{RESULTS}/logs/gridsearch/{{participant}}/{{transform}}.{{hemi}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/gridsearch/{{participant}}/{{transform}}.{{hemi}}.tsv"
    threads: GRIDSEARCH["threads"]
    resources:
        mem_mb=gridsearch_mem_mb,
        runtime=GRIDSEARCH["runtime_min"],
    shell:
        KYMATA + " gridsearch --emeg {input.emeg[0]} --transform {input.transform} {params.args}"
        + (" --dense-out {output.dense}" if GRIDSEARCH["save_dense"] else "")
        + " --threads {threads} --out {output.nkg} --overwrite > {log} 2>&1"
