# Tables for the HTML report (snakemake --report) that no other rule writes: the software that ran the
# workflow, and the IPPM hierarchy as a table. Both come from the parameters alone (no input files),
# so they are written once and rewritten only when a version or the hierarchy changes, and no change to
# the data reruns them. The report's first page (workflow/report/workflow.rst) shows them.


include: "../report/landing.smk"


# The files only the report needs: targets of the workflow, so that `snakemake --report` finds them.
REPORT_TARGETS = [f"{RESULTS}/versions.tsv", f"{RESULTS}/ippm/hierarchy.tsv"]


rule report_tables:
    output:
        versions=report(
            f"{RESULTS}/versions.tsv",
            caption="../report/versions.rst",
            category="Configuration",
            labels={"file": "software versions"},
        ),
        hierarchy=report(
            f"{RESULTS}/ippm/hierarchy.tsv",
            caption="../report/hierarchy.rst",
            category="Configuration",
            labels={"file": "IPPM hierarchy (table)"},
        ),
    params:
        versions=software_versions(),
        hierarchy=HIERARCHY,
    log:
        f"{RESULTS}/logs/report_tables.log",
    benchmark:
        f"{RESULTS}/benchmarks/report_tables.tsv"
    localrule: True
    run:
        write_report_tables(params.versions, params.hierarchy, output)
