"""Policy (score thresholds + operator rules + lists -> allow/review/block), the decision log and cases."""
