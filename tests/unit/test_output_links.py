"""Issue 21: links planted under the output folders, pointing outside the working directory, are found."""

from mfg_finance.output_links import foreign_links


def test_links_out_of_the_working_directory_are_listed(tmp_path):
    work, outside = tmp_path / "work", tmp_path / "outside"
    (work / "results" / "benchmarks").mkdir(parents=True)
    outside.mkdir()
    (outside / "victim.txt").write_text("keep me")
    (work / "results" / "benchmarks" / "ingest_cotahist.tsv").symlink_to(outside / "victim.txt")
    (work / "logs").mkdir()
    (work / "logs" / "gone").symlink_to(outside / "nowhere")             # dangling, outside
    (work / "results" / "inside.txt").write_text("x")
    (work / "results" / "ok").symlink_to(work / "results" / "inside.txt")  # inside: fine
    assert foreign_links(work) == [f"logs/gone -> {outside / 'nowhere'}",
                                   f"results/benchmarks/ingest_cotahist.tsv -> {outside / 'victim.txt'}"]


def test_an_output_folder_linked_elsewhere_as_a_whole_is_allowed(tmp_path):
    work, scratch = tmp_path / "work", tmp_path / "scratch"
    (scratch / "mfg").mkdir(parents=True)
    work.mkdir()
    (work / "results").symlink_to(scratch)                                  # results on a scratch disk
    (scratch / "mfg" / "a.json").write_text("{}")
    (scratch / "link.json").symlink_to(scratch / "mfg" / "a.json")         # inside the folder's real place
    assert foreign_links(work) == []
