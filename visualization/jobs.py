"""`lqz Quickstart` and `lqz Leaderboard`: from data to charts in one command.

They sit at the top of the dependency flow (they train, convert, measure and draw),
so they are loaded only by `lqz`, through the `lab_bnn.tasks` entry points; `import
visualization` stays free of TensorFlow.
"""

from pathlib import Path

import altair as alt
import pandas as pd
from zookeeper import Field

from benchmarks.leaderboard import CSV_FILE, parse_binarizers, run_leaderboard
from benchmarks.leaderboard_row import Budget
from visualization.html import save_report
from visualization.leaderboard_page import (
    display_table,
    leaderboard_sections,
    op_profile_table,
)
from visualization.op_profile import op_profile_chart
from zoo.task_help import task

QUICKSTART_ROWS = ("lab", "bnn")  # LAB in every stage; plain sign (BNN)
SUMMARY_COLUMNS = [
    "title",
    "status",
    "accuracy",
    "lce_accuracy",
    "size_bytes",
    "latency_ms",
    "kernel",
    "conversion",
]


class LeaderboardJob:
    """Fields and budget shared by the two jobs."""

    field_help = {
        "dataset": "the zoo dataset every model trains on",
        "epochs": "training epochs per model",
        "batch_size": "images per training step",
        "learning_rate": "Adam's initial learning rate, decaying linearly",
        "seed": "seed of weights, shuffling and augmentation (the same for every row)",
        "train_examples": "training images used; 0 = the whole split",
        "validation_examples": "test images evaluated; 0 = the whole split",
        "threads": "interpreter threads for LCE's evaluation and timing",
    }
    dataset: str = Field("FashionMnist")
    epochs: int = Field(3)
    batch_size: int = Field(128)
    learning_rate: float = Field(3e-3)
    seed: int = Field(0)
    train_examples: int = Field(0)  # 0 = the whole split
    validation_examples: int = Field(0)
    threads: int = Field(1)

    def budget(self) -> Budget:
        return Budget(
            self.epochs,
            self.batch_size,
            self.learning_rate,
            self.seed,
            self.train_examples or None,
            self.validation_examples or None,
        )

    def dataset_title(self) -> str:
        return {"FashionMnist": "Fashion-MNIST"}.get(self.dataset, self.dataset)


def print_summary(table: pd.DataFrame) -> None:
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(display_table(table).reindex(columns=SUMMARY_COLUMNS).to_string(index=False))


@task
class Leaderboard(LeaderboardJob):
    """Train one CompactBNN per binarizer (same budget and seed), convert, verify and
    time each, and write <output_dir>/leaderboard.csv and leaderboard.html. Killed and
    rerun, it keeps finished rows and resumes the interrupted one from its checkpoint."""

    field_help = {
        "binarizers": "'all' or a comma-separated list of binarizers, one row each",
        "output_dir": "where leaderboard.csv, leaderboard.html and the runs go",
        "images": "also save each chart as a PNG picture",
    }
    binarizers: str = Field("all")  # "all" or a comma-separated list
    output_dir: str = Field("runs/leaderboard")
    images: bool = Field(True)  # also each chart as a PNG picture

    def run(self):
        binarizers = parse_binarizers(self.binarizers)
        output = Path(self.output_dir).expanduser()
        table = run_leaderboard(
            output, binarizers, dataset=self.dataset, budget=self.budget(), threads=self.threads
        )
        sections = leaderboard_sections(table, self.dataset_title())
        # The page is drawn from the stored rows, so redrawing it loses nothing.
        page = save_report(output / "leaderboard.html", "lab-bnn leaderboard", sections, overwrite=True)
        print_summary(table)
        print(f"\nrows: {output / CSV_FILE}\npage: {page}")
        if self.images:
            for path in save_chart_images(sections, output / "leaderboard"):
                print(f"image: {path}")


def save_chart_images(sections, stem: Path):
    """Each chart of `sections` as <stem>-<heading>.png (vl-convert renders offline)."""
    for heading, content in sections:
        if isinstance(content, alt.TopLevelMixin):
            path = stem.with_name(f"{stem.name}-{heading.lower().replace(' ', '-')}.png")
            content.save(str(path), scale_factor=1.5)
            yield path


@task
class Quickstart(LeaderboardJob):
    """The main job, offline on Fashion-MNIST: train CompactBNN with LAB in every stage
    and with plain sign, evaluate both, convert them (LAB fused), check parity, measure
    host latency and per-op profiles, and write <output_dir>/report.html."""

    field_help = {"output_dir": "where report.html and the two runs go"}
    output_dir: str = Field("runs/quickstart")

    def run(self):
        output = Path(self.output_dir).expanduser()
        table = run_leaderboard(
            output,
            list(QUICKSTART_ROWS),
            dataset=self.dataset,
            budget=self.budget(),
            threads=self.threads,
            profile=True,
        )
        sections = leaderboard_sections(table, self.dataset_title())
        done = table[table.status == "ok"]
        profiles = {
            title: pd.read_csv(Path(d) / "op_profile.csv") for title, d in zip(done.title, done.run_dir)
        }
        if profiles:
            sections.append(("Latency per op type", op_profile_chart(op_profile_table(profiles))))
        for title, run_dir in zip(done.title, done.run_dir):
            sections.append(
                (f"Audit of the {title} model, per TFLite operator", pd.read_csv(Path(run_dir) / "audit.csv"))
            )
        page = save_report(output / "report.html", "lab-bnn quickstart", sections, overwrite=True)
        print_summary(table)
        print(f"\nreport: {page}")
