"""Interactive altair charts of tidy benchmark and accuracy tables, saved as offline HTML.

Charts take pandas DataFrames only: this package imports neither TensorFlow nor the rest
of lab-bnn, and nothing imports it.
"""

from visualization.html import save_html, save_report
from visualization.op_profile import op_profile_chart
from visualization.scatter import scatter_chart

__all__ = ["op_profile_chart", "save_html", "save_report", "scatter_chart"]
