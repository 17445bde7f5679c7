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
        mem_mb=lambda wildcards, input: 1024 + 3 * int(input.size_mb),
        runtime=30,
    shell:
        KYMATA + " average --space sensor {params.condition} --n-reps {params.n_reps} --out {output} {input} > {log} 2>&1"


rule average_source:
    input:
        lambda wildcards: [participant_emeg(p, "source")[0] for p in PARTICIPANTS],
    output:
        lh=f"{RESULTS}/{GROUP}/emeg/{GROUP}-lh.stc",
        rh=f"{RESULTS}/{GROUP}/emeg/{GROUP}-rh.stc",
    log:
        f"{RESULTS}/logs/average/source.log",
    benchmark:
        f"{RESULTS}/benchmarks/average/source.tsv"
    resources:
        mem_mb=lambda wildcards, input: 1024 + 3 * int(input.size_mb),
        runtime=30,
    shell:
        KYMATA + " average --space source --out {output.lh} {input} > {log} 2>&1"
