# Source space from inverse operators: each participant's premorphed source operator (sensors -> target
# hexels), built once; the gridsearch forms the hexels from the sensors on the fly. Only included when
# config["emeg"]["inverse_operator"] is set.


rule operator:
    input:
        unpack(operator_inputs),
    output:
        STUDY.source_operator("{participant}"),
    params:
        args=OPERATOR_FLAGS,
        morph=lambda wildcards, input: f"--morph {input.morph}" if isinstance(STUDY.morph, str) else "",
    log:
        f"{RESULTS}/logs/operator/{{participant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/operator/{{participant}}.tsv"
    resources:
        mem_mb=on_retry(lambda wildcards, input: 2048 + 4 * int(input.size_mb), RETRY_MEM),
        runtime=on_retry(30, RETRY_TIME),
    shell:
        kymata(
            "operator --evoked {input.evoked} --inverse {input.inverse} {params.args} {params.morph}"
            " --out {output} --overwrite > {log} 2>&1"
        )


# A participant's hexel gridsearch through its operator (the group's reads its averaged source estimate).
rule gridsearch_projected:
    input:
        unpack(projected_gridsearch_inputs),
    output:
        nkg=f"{RESULTS}/{{participant}}/shards/{{transform}}.{{hemi}}.nkg",
        **(
            {"dense": f"{RESULTS}/{{participant}}/dense/{{transform}}.{{hemi}}.h5"}
            if GRIDSEARCH["save_dense"]
            else {}
        ),
    wildcard_constraints:
        participant=PARTICIPANT_NOT_GROUP,
        hemi="lh|rh",
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
    group: "gridsearch_{participant}"  # as rule gridsearch (gridsearch.smk)
    resources:
        mem_mb=on_retry(projected_gridsearch_mem_mb, RETRY_MEM),
        runtime=on_retry(GRIDSEARCH["runtime_min"], RETRY_TIME),
    shell:
        kymata(
            "gridsearch --emeg {input.emeg} --operator {input.operator} --transform {input.transform}"
            " {params.args} {params.dense_out} --threads {threads} --out {output.nkg} --overwrite > {log} 2>&1"
        )


ruleorder: gridsearch_projected > gridsearch
