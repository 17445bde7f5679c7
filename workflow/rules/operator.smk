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
    log:
        f"{RESULTS}/logs/operator/{{participant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/operator/{{participant}}.tsv"
    resources:
        mem_mb=lambda wildcards, input: 2048 + 4 * int(input.size_mb),
        runtime=30,
    shell:
        KYMATA + " operator --evoked {input.evoked} --inverse {input.inverse} {params.args}"
        + (" --morph {input.morph}" if isinstance(STUDY.morph, str) else "")
        + " --out {output} --overwrite > {log} 2>&1"


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
        participant=f"(?!{GROUP}$){NAME_PATTERN}",
        hemi="lh|rh",
    params:
        args=GRIDSEARCH_FLAGS,
    log:
        f"{RESULTS}/logs/gridsearch/{{participant}}/{{transform}}.{{hemi}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/gridsearch/{{participant}}/{{transform}}.{{hemi}}.tsv"
    threads: GRIDSEARCH["threads"]
    resources:
        mem_mb=projected_gridsearch_mem_mb,
        runtime=GRIDSEARCH["runtime_min"],
    shell:
        KYMATA + " gridsearch --emeg {input.emeg} --operator {input.operator} --transform {input.transform}"
        " {params.args}"
        + (" --dense-out {output.dense}" if GRIDSEARCH["save_dense"] else "")
        + " --threads {threads} --out {output.nkg} --overwrite > {log} 2>&1"


ruleorder: gridsearch_projected > gridsearch
