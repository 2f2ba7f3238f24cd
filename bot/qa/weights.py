"""The matcher's learned weights and cutoffs: written by bench/fit_matcher.py (--write),
fitted on every labelled question set in tests/data; do not edit by hand, re-fit."""

WEIGHTS: dict[str, float] = {
    "words": 4.147,
    "chars": 4.388,
    "bayes": 3.199,
    "near": 3.057,
    "fuzzy": 1.142,
    "keyword": 0.810,
    "words_top": 0.564,
    "chars_top": 0.526,
    "bayes_top": 0.142,
    "near_top": 0.243,
    "near_lead": 0.937,
    "today_no_look": -1.417,
    "log_undo": 0.289,
    "overview_specific": -0.262,
    "payee_other": 0.277,
    "bot_topic": 0.743,
    "howto_form": -3.385,
    "named_catalog": -0.161,
    "bare_form": -1.541,
    "request_form": -0.225,
    "oos_bias": 3.791,
    "oos_words": 0.630,
    "oos_chars": 0.520,
    "oos_bayes": 2.348,
    "oos_near": 4.063,
    "oos_fuzzy": 1.978,
    "oos_near_lead": 2.615,
    "oos_near_flag": 1.796,
    "oos_frame": 3.571,
    "oos_other_system": 0.735,
    "oos_uncovered": 4.599,
}
ANSWER_P = 0.15
OOS_P = 0.15
SUGGEST_P = 0.2
