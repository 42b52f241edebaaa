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
    reasons = sorted({result["rCE_undefined"] for result in results.values() if result.get("rCE_undefined")})
    lines.extend(["", *(f"rCE –: {reason}" for reason in reasons)] if reasons else [])
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


VIEW_TITLES = {
    "corruptions": "the corruptions of CIFAR-10-C",
    "gaussian_noise_variance": "Gaussian noise (Fig. 4)",
    "contrast_poisson": "contrast + Poisson noise (Fig. 5)",
}


def _mean_error(result, groups):
    return sum(sum(result["errors"][g].values()) / len(result["errors"][g]) for g in groups) / len(groups)


def verdict(results, corruption_names):
    """Plain sentences: which model had the lowest mean error on each kind of distortion, and overall.

    The kinds are the corruptions (together) and each other distortion group
    (e.g. the Gaussian-noise levels of Fig. 4).
    """
    first = next(iter(results.values()))
    views = {"corruptions": list(corruption_names)}
    views.update({g: [g] for g in first["errors"] if g not in corruption_names})
    wins = dict.fromkeys(results, 0)
    sentences = []
    for view, groups in views.items():
        errors = {name: _mean_error(result, groups) for name, result in results.items()}
        ranked = sorted(errors, key=errors.get)
        wins[ranked[0]] += 1
        others = ", ".join(f"{n} {errors[n]:.2f}%" for n in ranked[1:])
        growth = ", ".join(f"{n} {errors[n] - results[n]['clean_error']:+.2f}" for n in ranked)
        sentences.append(
            f"On {VIEW_TITLES.get(view, view)}, {ranked[0]} had the lower mean error: {errors[ranked[0]]:.2f}%"
            + (f" against {others}" if others else "") + f" (points over its clean error: {growth})."
        )
    best = max(wins, key=wins.get)
    if len(results) > 1:
        tie = [n for n in wins if wins[n] == wins[best]]
        sentences.append(
            f"Overall: {best} was more robust on {wins[best]} of {len(views)} kinds of distortion."
            if len(tie) == 1 else f"Overall: a tie between {' and '.join(tie)}."
        )
    return " ".join(sentences)


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
