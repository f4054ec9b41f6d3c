"""Reply history and signatures off a customer's mail: `strip` is the entry point, `rules`
the plain-text markers, `html` the HTML ones."""

__all__ = ["html", "rules", "strip"]
