"""The evaluation report (评价报告): an evaluation rendered as Word, Markdown or HTML."""
