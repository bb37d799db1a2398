"""The Data Docs index rewritten as plain HTML from the rows GX writes into its own page."""

from __future__ import annotations

from data_checks.docs import index_rows, static_index_page

ROW = {
    "validation_success": "<i class='ok'></i>",
    "run_time": "2026-11-20 12:00:00 UTC",
    "_run_time_sort": 1.0,
    "run_name": "validate_card-2026-11-20",
    "_expectation_suite_name_sort": "races_card",
    "_table_row_link_path": "validations/races_card/x/y/z.html",
    "_validation_success_text": "Failed",
}
NEWER = {**ROW, "_run_time_sort": 2.0, "_validation_success_text": "Success"}
GX_PAGE = f"""<script>
      $("#section-1-content-block-2-body-table").bootstrapTable({{
        data: [{ROW!r}, {NEWER!r}],
      }})
      $("#other").bootstrapTable({{
        data: [{{'expectation_suite_name': 'races_card'}}],
      }})
</script>"""


def test_the_validations_are_read_back_from_gxs_page() -> None:
    rows = index_rows(
        GX_PAGE.replace(
            '{**ROW, "_run_time_sort": 2.0, "_validation_success_text": "Success"}',
            repr({**ROW, "_run_time_sort": 2.0, "_validation_success_text": "Success"}),
        ),
        "validation_success",
    )
    assert [row["_validation_success_text"] for row in rows] == ["Failed", "Success"]
    assert index_rows("<html>no table</html>", "validation_success") == []
    assert index_rows("data: [{'a': object()}],", "a") == []  # not a literal: left alone


def test_the_static_index_lists_newest_first_with_links_and_no_script() -> None:
    page = static_index_page([ROW, NEWER])
    assert "<script" not in page and "http" not in page
    assert page.index("Success") < page.index(">Failed<")
    assert "href='validations/races_card/x/y/z.html'" in page
    assert "2 validations, 1 failed" in page
