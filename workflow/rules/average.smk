# The grand average of all participants: the "group" participant.


rule average_sensor:
    input:
        lambda wildcards: [participant_emeg(p, "sensor")[0] for p in PARTICIPANTS],
    output:
        f"{RESULTS}/{GROUP}/emeg/{GROUP}-ave.fif",
    log:
        f"{RESULTS}/logs/average/sensor.log",
    benchmark:
        f"{RESULTS}/benchmarks/average/sensor.tsv"
    params:
        condition=condition_flags(),
        n_reps=GRIDSEARCH["n_reps"],
    resources:
        mem_mb=on_retry(lambda wildcards, input: 1024 + 3 * int(input.size_mb), RETRY_MEM),
        runtime=on_retry(30, RETRY_TIME),
    shell:
        kymata(
            "average --space sensor {params.condition} --n-reps {params.n_reps} --out {output} {input} > {log} 2>&1"
        )


rule average_source:
    input:
        evoked=lambda wildcards: [participant_emeg(p, "source")[0] for p in PARTICIPANTS],
        operators=[STUDY.source_operator(p) for p in PARTICIPANTS] if STUDY.source_from_inverse else [],
    output:
        lh=f"{RESULTS}/{GROUP}/emeg/{GROUP}-lh.stc",
        rh=f"{RESULTS}/{GROUP}/emeg/{GROUP}-rh.stc",
    params:
        operators=(
            f"{condition_flags()} --operators " + " ".join(STUDY.source_operator(p) for p in PARTICIPANTS)
            if STUDY.source_from_inverse
            else ""
        ),
    log:
        f"{RESULTS}/logs/average/source.log",
    benchmark:
        f"{RESULTS}/benchmarks/average/source.tsv"
    resources:
        mem_mb=on_retry(average_source_mem_mb, RETRY_MEM),
        runtime=on_retry(30, RETRY_TIME),
    shell:
        kymata(
            "average --space source {params.operators} --out {output.lh} {input.evoked} > {log} 2>&1"
        )
