"""The matcher's learned weights and cutoffs: written by bench/fit_matcher.py (--write),
fitted on every labelled question set in tests/data; do not edit by hand, re-fit."""

WEIGHTS: dict[str, float] = {
    "words": 4.127,
    "chars": 4.329,
    "bayes": 3.338,
    "near": 3.254,
    "fuzzy": 1.110,
    "keyword": 0.828,
    "words_top": 0.587,
    "chars_top": 0.532,
    "near_lead": 1.261,
    "today_no_look": -1.403,
    "bot_topic": 0.756,
    "howto_form": -3.364,
    "bare_form": -1.531,
    "oos_bias": 3.753,
    "oos_words": 0.625,
    "oos_chars": 0.520,
    "oos_bayes": 2.327,
    "oos_near": 4.069,
    "oos_fuzzy": 1.980,
    "oos_near_lead": 2.584,
    "oos_near_flag": 1.813,
    "oos_frame": 3.553,
    "oos_other_system": 0.712,
    "oos_uncovered": 4.562,
}
ANSWER_P = 0.15
OOS_P = 0.15
SUGGEST_P = 0.3  # not fitted: a choice offered when not answered
