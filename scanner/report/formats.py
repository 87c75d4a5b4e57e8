"""The report formats, by name: one module per format in this package, each with a function
render_X(report, show_secrets, color). A new format is one module and one line here. This module imports
nothing, so the command line can offer the choices without paying for any renderer at start-up."""

RENDERERS = {
    "text": "scanner.report.text:render_text",
    "json": "scanner.report.json:render_json",
    "jsonl": "scanner.report.json:render_jsonl",
    "sarif": "scanner.report.sarif:render_sarif",
    "html": "scanner.report.html:render_html",
    "gitlab": "scanner.report.gitlab:render_gitlab",
    "github": "scanner.report.github:render_github",
    "markdown": "scanner.report.github:render_markdown",
}
FORMATS = tuple(RENDERERS)
