"""The matcher's learned weights: written by bench/fit_matcher.py, do not edit by hand."""

WEIGHTS: dict[str, float] = {
    "words": 5.0, "chars": 4.0, "bayes": 2.0, "near": 5.0, "keyword": 0.6, "fuzzy": 1.0,
    "oos_bias": 0.0, "oos_near": 5.0, "oos_words": 5.0, "oos_chars": 4.0, "oos_bayes": 2.0,
    "oos_frame": 10.0, "oos_near_flag": 5.0, "oos_uncovered": 5.0,
}
ANSWER_P = 0.5
SUGGEST_P = 0.2
