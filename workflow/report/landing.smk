# Helpers of the HTML report (`snakemake --report`), included by workflow/rules/report.smk: the tables
# the report_tables rule writes, and the image directive the first page (workflow.rst) embeds the group
# average's figures with.

import base64
import mimetypes

from docutils.parsers.rst import directives
from docutils.parsers.rst.directives.images import Image

from kymata_core.provenance import dependency_versions, software_record


def software_versions():
    """(name, version) of Python, this pipeline (with its commit) and every dependency a record lists."""
    software = software_record()
    rows = [
        ("python", software["python"]),
        (software["name"], f"{software['version']} (commit {software['commit']})"),
    ]
    return rows + list(dependency_versions().items())


def write_report_tables(versions, hierarchy, output):
    """Write the software versions and the IPPM hierarchy as tab-separated tables with a header."""
    rows = ["package\tversion"] + [f"{name}\t{value}" for name, value in versions]
    Path(output.versions).write_text("\n".join(rows) + "\n", encoding="utf-8")
    rows = ["transform\tparents"] + [
        f"{transform}\t{', '.join(parents) if parents else '(an input)'}" for transform, parents in hierarchy.items()
    ]
    Path(output.hierarchy).write_text("\n".join(rows) + "\n", encoding="utf-8")


class EmbeddedImage(Image):
    """``.. kymata-image:: PATH``: the image directive with the file embedded as a data URI.

    The first page shows the group's figures with it, so that the report stays one self-contained file
    wherever it is moved (Snakemake's own ``embeddedimage`` directive writes the path instead). PATH
    is relative to the directory Snakemake runs in.
    """

    def run(self):
        path = Path(self.arguments[0])
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self.arguments[0] = f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
        return super().run()


# Registered whenever the workflow is parsed: Snakemake parses it before it writes a report.
directives.register_directive("kymata-image", EmbeddedImage)
