import pytest

from lms.formatting import one_decimal


@pytest.mark.parametrize("value, shown", [(66.666, "66.7"), (80.0, "80"), (0, "0"), (99.96, "100"), (12.25, "12.2"),
                                          (None, "—"), (7, "7")])
def test_scores_show_at_most_one_decimal(value, shown):
    assert one_decimal(value) == shown
