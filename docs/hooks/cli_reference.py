"""MkDocs hook: the CLI reference page is generated from the click commands of `robust-cli`.

A page containing the line `<!-- robust-cli reference -->` gets, in its place, every command of the `robust-cli`
group with its help text, usage line and a table of every option (names, type, default, help), read from the click
objects themselves, so the page cannot fall behind the code.
"""

import inspect

import click

MARKER = "<!-- robust-cli reference -->"


def _escape(text):
    """`text` with `<`, `>` and `&` outside code spans as HTML entities (`<split>/<class>` is not a tag)."""
    parts = str(text).split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def _cell(text):
    return _escape(" ".join(str(text).split())).replace("|", "\\|")


def _type(param):
    if param.is_flag if isinstance(param, click.Option) else False:
        return "flag"
    if isinstance(param.type, click.Choice):
        return " \\| ".join(f"`{choice}`" for choice in param.type.choices)
    return param.type.name.lower()


def _default(param, ctx):
    value = param.get_default(ctx, call=False)
    if value is None or value == () or callable(value) or type(value).__name__ == "Sentinel":
        value = None
    if isinstance(param, click.Option) and param.is_flag and not param.secondary_opts:
        return "on" if value else "off"
    if value is None:
        return ""
    if isinstance(value, (tuple, list)):
        return ", ".join(f"`{item}`" for item in value)
    if isinstance(value, bool) and param.secondary_opts:
        return f"`{(param.opts if value else param.secondary_opts)[0]}`"
    return f"`{value}`"


def _names(param):
    names = ", ".join(f"`{name}`" for name in (*param.opts, *param.secondary_opts))
    if isinstance(param, click.Argument):
        names = f"`{param.human_readable_name}` (argument)"
    return names + (" (required)" if param.required else "") + (" (repeatable)" if getattr(param, "multiple", False)
                                                                 and isinstance(param, click.Option) else "")


def command_reference(name, command, parent):
    """Markdown of one command: heading, help, usage, options table."""
    ctx = click.Context(command, info_name=name, parent=parent)
    lines = [f"## robust-cli {name}", "", _escape(inspect.cleandoc(command.help or "")), "", "```text",
             " ".join(ctx.command_path.split()) + " " + " ".join(command.collect_usage_pieces(ctx)), "```", "",
             "| option | type | default | meaning |", "|---|---|---|---|"]
    for param in command.get_params(ctx):
        if "--help" in param.opts:
            continue
        help_text = getattr(param, "help", "") or ""
        lines.append(f"| {_names(param)} | {_type(param)} | {_default(param, ctx)} | {_cell(help_text)} |")
    return "\n".join(lines) + "\n"


def reference():
    """Markdown of every command of `robust-cli`, in the order of `COMMANDS`."""
    from keras_robust.cli.main import COMMANDS, cli

    root = click.Context(cli, info_name="robust-cli")
    return "\n".join(command_reference(name, cli.commands[name], root) for name in COMMANDS)


def on_page_markdown(markdown, page, **kwargs):
    if MARKER in markdown:
        return markdown.replace(MARKER, reference())
    return markdown
