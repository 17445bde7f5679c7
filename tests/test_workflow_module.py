"""The workflow used from another workflow plans the same jobs as the workflow run on its own.

A small files-based study is simulated once; a dry run of the repository's Snakefile with the study's
config (``--configfile``) gives the reference job list. The same config then goes through host
workflows that use this one as a Snakemake module (``module ... config: config``):

* as snakedeploy deploys it: ``workflow/Snakefile`` reads ``config/config.yaml`` and uses every rule
  under its own name;
* under a prefix (``use rule * from kymata as kymata_*``), the config given on the command line, with the
  repository's demo config lying in ``config/`` where the module would find it if it read it;
* with the host's own ``configfile:`` and no ``--configfile`` (``workflow.overwrite_configfiles`` empty,
  the case in which the Snakefile would read ``config/config.yaml`` when run on its own).

Every one must plan the same jobs (rule and wildcards), none may read the demo config, and the
``localrules`` directive must name only rules that exist.
"""

from __future__ import annotations

import shutil

import pytest

from kymata_core.simulate import Effect, StudySpec, simulate_study, vectorview_sensors
from tests.workflow_utils import REPO, planned_jobs, run_snakemake, write_config

pytestmark = pytest.mark.slow

SNAKEFILE = REPO / "Snakefile"
LOCALRULES_WARNING = "localrules directive specifies rules that are not present"


def _spec() -> StudySpec:
    sensors = vectorview_sensors(3, 2)
    return StudySpec(
        participants=["p1", "p2"],
        n_splits=40,
        sensors=sensors,
        hexels_lh=list(range(4)),
        hexels_rh=list(range(4)),
        transforms=["a", "b"],
        effects=[
            Effect("a", "sensor", [sensors[0]], 0.05, 0.6),
            Effect("b", "sensor", [sensors[2]], 0.1, 0.6),
        ],
        stimulus_delivery_latency=0.0,
        seed=3,
    )


CONFIG = {
    "dataset": "files",
    "participants": ["p1", "p2"],
    "channel_space": ["sensor", "source"],
    "emeg": {"sensor": "data/emeg/{participant}-ave.fif", "source": "data/emeg/{participant}-lh.stc"},
    "transforms": {"sample_rate": 200, "files": {"a": "data/transforms/a.npy", "b": "data/transforms/b.npy"}},
    "gridsearch": {"n_splits": 40, "n_derangements": 2, "stimulus_delivery_latency": 0.0},
    "ippm": {"hierarchy": {"input": [], "a": ["input"], "b": ["a"]}, "denoisers": ["maxpool"]},
}

HOST_MODULE = """\
module kymata:
    snakefile:
        "{snakefile}"
    config:
        config


use rule * from kymata{rename}
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The simulated study's input files."""
    root = tmp_path_factory.mktemp("module-data")
    simulate_study(_spec(), root)
    return root


def _project(tmp_path, data, demo_config: bool):
    """A project directory with the study's data and, if asked, the repository's demo config as config/config.yaml."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "data").symlink_to(data, target_is_directory=True)
    if demo_config:
        (tmp_path / "config").mkdir()
        shutil.copy(REPO / "config" / "config.yaml", tmp_path / "config" / "config.yaml")
    return tmp_path


def _output(result) -> str:
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def standalone(data, tmp_path_factory):
    """The repository's Snakefile run on its own with the study's config: the reference job list."""
    root = _project(tmp_path_factory.mktemp("standalone"), data, demo_config=False)
    config = write_config(root, CONFIG)
    jobs = planned_jobs(root, "--snakefile", str(SNAKEFILE), "--configfile", str(config))
    result = run_snakemake(root, "--dry-run", "--snakefile", str(SNAKEFILE), "--configfile", str(config))
    assert LOCALRULES_WARNING not in _output(result)
    rules = {rule for rule, _ in jobs}
    assert {"gridsearch", "combine", "ippm", "plot_expression", "summary"} <= rules, rules
    assert "simulate" not in rules  # the study's own files, not the demo
    return jobs


def test_as_snakedeploy_deploys_it(data, tmp_path, standalone):
    """workflow/Snakefile as snakedeploy writes it, the study's config in config/config.yaml."""
    root = _project(tmp_path, data, demo_config=False)
    (root / "config").mkdir()
    write_config(root / "config", CONFIG, name="config.yaml")
    (root / "workflow").mkdir()
    (root / "workflow" / "Snakefile").write_text(
        'configfile: "config/config.yaml"\n\n\n' + HOST_MODULE.format(snakefile=SNAKEFILE, rename="")
    )
    assert planned_jobs(root) == standalone
    assert LOCALRULES_WARNING not in _output(run_snakemake(root, "--dry-run"))


def test_with_the_hosts_own_configfile(data, tmp_path, standalone):
    """No --configfile: the host's configfile directive gives the config, the demo config is not read."""
    root = _project(tmp_path, data, demo_config=True)
    write_config(root, CONFIG, name="my-study.yaml")
    host = root / "Snakefile"
    host.write_text('configfile: "my-study.yaml"\n\n\n' + HOST_MODULE.format(snakefile=SNAKEFILE, rename=""))
    assert planned_jobs(root) == standalone
    assert LOCALRULES_WARNING not in _output(run_snakemake(root, "--dry-run"))


def _prefixed_host(root):
    host = root / "Host.smk"
    host.write_text(HOST_MODULE.format(snakefile=SNAKEFILE, rename=" as kymata_*"))
    return host


def test_under_a_prefix_with_the_config_on_the_command_line(data, tmp_path, standalone):
    root = _project(tmp_path, data, demo_config=True)
    config = write_config(root, CONFIG)
    jobs = planned_jobs(root, "--snakefile", str(_prefixed_host(root)), "--configfile", str(config))
    assert all(rule.startswith("kymata_") for rule, _ in jobs), jobs
    unprefixed = [(rule.removeprefix("kymata_"), wildcards) for rule, wildcards in jobs]
    assert sorted(job for job in unprefixed if job[0] != "all") == standalone  # planned_jobs leaves out `all`


def test_under_a_prefix_localrules_names_only_existing_rules(data, tmp_path):
    root = _project(tmp_path, data, demo_config=False)
    config = write_config(root, CONFIG)
    result = run_snakemake(
        root, "--dry-run", "--snakefile", str(_prefixed_host(root)), "--configfile", str(config)
    )
    assert LOCALRULES_WARNING not in _output(result), _output(result)[-2000:]
