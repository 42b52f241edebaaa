"""Tables, verdict, JSON and CSV of benchmark results."""

import csv
import io
import json


def _number(value, digits=2):
    return "–" if value is None else f"{value:.{digits}f}"


def corruption_table(results, corruption_names):
    """Markdown table in the style of Table 2: E per corruption (mean over severities)."""
    names = list(results)
    lines = ["| corruption | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for corruption in corruption_names:
        row = [sum(errors) / len(errors) for errors in (
            list(results[n]["errors"][corruption].values()) for n in names)]
        lines.append(f"| {corruption} | " + " | ".join(_number(e) for e in row) + " |")
    lines.append("| **average E** | " + " | ".join(_number(results[n]["corruption_error"]) for n in names) + " |")
    return "\n".join(lines)


def summary_table(results, baseline):
    """Markdown table in the style of Table 3: E_clean, E_corr, mCE, rCE."""
    label = "unnormalized" if baseline is None else f"baseline {baseline} = 100"
    lines = [f"| model | E_clean | E_corr | mCE ({label}) | rCE ({label}) |", "|---|---|---|---|---|"]
    for name, result in results.items():
        lines.append(
            f"| {name} | {_number(result['clean_error'])} | {_number(result['corruption_error'])} | "
            f"{_number(result['mCE'], 1)} | {_number(result['rCE'], 1)} |"
        )
    return "\n".join(lines)


def level_table(results, group, title):
    """Markdown table of accuracy (%) of each model at each level of one distortion group."""
    names = list(results)
    levels = list(results[names[0]]["errors"][group])
    lines = [f"| {title} | clean | " + " | ".join(str(level) for level in levels) + " |",
             "|---" * (len(levels) + 2) + "|"]
    for name in names:
        accuracies = [100 - results[name]["errors"][group][level] for level in levels]
        lines.append(f"| {name} | {_number(100 - results[name]['clean_error'])} | "
                     + " | ".join(_number(a) for a in accuracies) + " |")
    return "\n".join(lines)


def verdict(results):
    """One sentence naming the more robust model by its mean error on the corrupted data."""
    ranked = sorted(results, key=lambda name: results[name]["corruption_error"])
    best = ranked[0]
    if len(ranked) == 1:
        return f"{best}: mean error on the corrupted data {results[best]['corruption_error']:.2f}%."
    others = ", ".join(f"{n} {results[n]['corruption_error']:.2f}%" for n in ranked[1:])
    clean = min(results, key=lambda name: results[name]["clean_error"])
    return (
        f"{best} was the most robust: mean error on the corrupted data "
        f"{results[best]['corruption_error']:.2f}% (against {others}); the lowest clean error was {clean}'s "
        f"({results[clean]['clean_error']:.2f}%)."
    )


def to_json(report):
    return json.dumps(report, indent=1, sort_keys=False) + "\n"


def to_csv(results):
    """One row per model, distortion and level: its error and accuracy in %."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["model", "distortion", "level", "error_percent", "accuracy_percent"])
    for name, result in results.items():
        writer.writerow([name, "clean", "", f"{result['clean_error']:.4f}", f"{100 - result['clean_error']:.4f}"])
        for group, levels in result["errors"].items():
            for level, error in levels.items():
                writer.writerow([name, group, level, f"{error:.4f}", f"{100 - error:.4f}"])
    return buffer.getvalue()
