MAX_ID = 2**63 - 1  # the largest id a database integer column holds


def parse_id(value) -> int | None:
    """A positive database id from user input, or None (too big, negative, not a number)."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if isinstance(value, float) and value != number:
        return None
    return number if 0 < number <= MAX_ID else None
