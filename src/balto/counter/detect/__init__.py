"""Sales-opportunity detection in counter transcripts (pure, sans-IO).

>>> detector = Detector(default_rules(), cooldown_s=60.0)
>>> [o.mensagem for o in detector.detect("tô com uma dor nas costas", now_s=0.0)]
['Sugerir Dorflex']
"""

from balto.counter.detect.detector import Detector, Opportunity, find_opportunities
from balto.counter.detect.loader import default_rules, load_rules
from balto.counter.detect.normalize import STOPWORDS, normalize, tokenize
from balto.counter.detect.rules import InvalidRules, Rule, RuleSet, Variant

__all__ = [
    "STOPWORDS",
    "Detector",
    "InvalidRules",
    "Opportunity",
    "Rule",
    "RuleSet",
    "Variant",
    "default_rules",
    "find_opportunities",
    "load_rules",
    "normalize",
    "tokenize",
]
