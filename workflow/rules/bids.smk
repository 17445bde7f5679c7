# A BIDS dataset's recordings cut into presentations: one evoked file per participant, which the
# gridsearch reads as any other. Only included when config["dataset"] is "bids" without derivatives.


rule evoked:
    input:
        lambda wildcards: STUDY.recording_files(wildcards.participant),
    output:
        f"{RESULTS}/{{participant}}/emeg/{{participant}}-ave.fif",
    wildcard_constraints:
        participant=PARTICIPANT_NOT_GROUP,
    params:
        args=EVOKED_FLAGS,
    log:
        f"{RESULTS}/logs/evoked/{{participant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evoked/{{participant}}.tsv"
    resources:
        mem_mb=on_retry(lambda wildcards, input: 2048 + 3 * int(input.size_mb), RETRY_MEM),
        runtime=on_retry(60, RETRY_TIME),
    shell:
        kymata(
            "evoked --participant {wildcards.participant} {params.args} --out {output} --overwrite > {log} 2>&1"
        )
