"""The rule parser's vocabulary: riders' words and phrases mapped to token classes (data only, no logic).

Each entry maps a lower-case phrase (one or more words, matched longest first) to ``(class, value)``. The classes
are the grammar's terminals (see ``core.coach.rules.clauses``):

- ``day`` (tuple of day codes), ``type`` (tuple of workout types or groups), ``phase`` (tuple of phases),
- ``neg`` (value "no" or "cant": can't/cannot/unable mark the day *unavailable*), ``max``, ``min``, ``gt`` / ``lt``
  (comparatives that need a negation to be a limit: "no rides longer than", "nothing over", "under"),
- ``only``, ``except``, ``period`` (week | day | ride), ``rest``, ``off``, ``unavail``, ``taper``, ``cadence``
  (on | off | load | rec | cycle), ``ramp``, ``metric`` (tss | hours | ctl | km), ``venue`` (indoor | outdoor),
  ``seq`` (b2b | apart | after | then | next), ``fixed`` (group | commute | crit | zwift_race | cafe), ``way``
  (each | round), ``rides`` (a generic ride noun), ``train`` (ride/train verbs), ``days`` ("days"), ``keep``,
  ``event`` ("before my race"), ``last`` (last/final), ``permit`` (permissions: "is fine", "no problem"),
  ``approx`` (about/around/~), ``cond`` (if/when/depending), ``remainder`` ("the rest" = the other days),
- ``filler``: function words and politeness, ignored inside a clause.

Anything else is an *unknown* word: a clause holding one is never applied (precision first). Typos are corrected
towards ``TYPO_TARGETS`` only (see ``core.coach.rules.tokens``), never for ``PROTECTED`` English words.
"""

from __future__ import annotations

_ALL_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
_WEEKEND = ("sat", "sun")
_EVERY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

DAY_WORDS: dict[str, str] = {
    "monday": "mon", "mon": "mon", "mondays": "mon", "mons": "mon",
    "tuesday": "tue", "tue": "tue", "tues": "tue", "tuesdays": "tue", "tu": "tue",
    "wednesday": "wed", "wed": "wed", "weds": "wed", "wednesdays": "wed",
    "thursday": "thu", "thu": "thu", "thur": "thu", "thurs": "thu", "thursdays": "thu", "thurses": "thu",
    "friday": "fri", "fri": "fri", "fris": "fri", "fridays": "fri",
    "saturday": "sat", "sat": "sat", "sats": "sat", "saturdays": "sat",
    "sunday": "sun", "sun": "sun", "suns": "sun", "sundays": "sun",
}

PHRASES: dict[str, tuple[str, object]] = {}


def _add(cls: str, value, *phrases: str) -> None:
    for phrase in phrases:
        PHRASES[phrase] = (cls, value)


for _word, _code in DAY_WORDS.items():
    _add("day", (_code,), _word)
_add("day", _ALL_WEEKDAYS, "weekday", "weekdays", "week days", "work days", "workdays", "working days",
     "during the week", "in the week", "midweek", "mid-week", "weekday's")
_add("day", _WEEKEND, "weekend", "weekends", "the weekend", "week-end", "week-ends", "weekend days")
_add("day", _EVERY, "every day", "everyday", "daily", "any day", "all week")

_HARD = ("hard",)
_add("type", _HARD, "hard", "hard day", "hard days", "hard session", "hard sessions", "hard workout",
     "hard workouts", "hard effort", "hard efforts", "hard stuff", "hard ride", "hard rides", "hard training",
     "hard ones", "hard one", "intense", "intense sessions", "intense session", "intense workouts", "intense days",
     "quality sessions", "quality session", "quality workouts", "key sessions", "key workouts", "high intensity",
     "high-intensity", "hiit", "tough sessions", "tough days", "hard intervals")
_add("type", ("intensity",), "intensity", "intensity sessions", "anything above z2", "anything above zone 2",
     "anything hard or tempo")
_add("type", ("intervals",), "intervals", "interval", "interval sessions", "interval session", "interval training",
     "interval workouts", "interval days", "structured work", "structured workouts", "efforts", "intervals sessions",
     "interval work")
_add("type", ("vo2max",), "vo2", "vo2max", "vo2 max", "vo2 work", "vo2max work", "vo2 sessions", "vo2 session",
     "vo2 intervals", "vo2max intervals", "vo2max sessions", "vo2max session", "vo2 efforts", "vo2 max sessions",
     "vo2 max intervals", "vo2 max efforts")
_add("type", ("threshold",), "threshold", "threshold work", "threshold sessions", "threshold session",
     "threshold workout", "threshold workouts", "threshold intervals", "ftp work", "ftp intervals", "ftp efforts",
     "ftp sessions", "ftp session", "threshold efforts")
_add("type", ("sweet_spot",), "sweet spot", "sweetspot", "sweet-spot", "sst", "sweet spot workouts",
     "sweet spot workout", "sweet spot sessions", "sweet spot session", "sweetspot sessions", "sst sessions",
     "sweet spot intervals", "sweetspot workouts")
_add("type", ("tempo",), "tempo", "tempo rides", "tempo sessions", "tempo work", "tempo session")
_add("type", ("anaerobic",), "anaerobic", "anaerobic stuff", "anaerobic efforts", "anaerobic work",
     "anaerobic intervals", "anaerobic sessions")
_add("type", ("sprint",), "sprint", "sprints", "sprint session", "sprint sessions", "sprint work", "sprinting")
_add("type", ("race",), "race", "races", "racing", "a race")
_add("type", ("long",), "long ride day", "long-ride day", "long ride days", "long ride", "long rides", "long one", "long day", "long session", "long", "long outing",
     "the long ride", "long endurance ride")
_add("type", ("endurance",), "endurance", "endurance rides", "endurance ride", "z2", "zone 2", "zone two",
     "base rides", "base miles", "z2 rides", "zone 2 rides", "endurance riding")
_add("type", ("recovery",), "recovery rides", "recovery ride", "easy spin", "easy spins", "recovery spin",
     "recovery spins", "spin", "spins", "active recovery")
_add("type", ("easy",), "easy", "easy rides", "easy ride", "easy riding", "easy days", "easy day", "easy stuff",
     "easy sessions", "easy session")
_add("type", ("group_ride",), "group ride", "group rides")
_add("recovery_word", "recovery", "recovery", "recovery day", "recovery days")

_add("phase", ("base",), "base", "base phase", "base block", "the base phase", "base period")
_add("phase", ("build",), "build", "build phase", "build block", "the build phase", "build period")
_add("phase", ("peak",), "peak", "peak phase", "the peak phase", "peak block")
_add("phase", ("recovery",), "recovery weeks", "recovery week", "recovery phase", "rest weeks", "rest week",
     "easy weeks", "easy week")
_add("taper", "taper", "taper", "tapering", "the taper", "taper phase", "taper week", "taper weeks", "taper period")

_add("neg", "no", "no", "not", "never", "don't", "dont", "do not", "doesn't", "without", "avoid", "nothing",
     "none", "shouldn't", "should not", "mustn't", "must not", "won't", "no more", "nope", "zero", "rather not",
     "would rather not", "i'd rather not", "prefer not to", "i'd prefer not to", "would prefer not to")
_add("neg", "cant", "can't", "cant", "cannot", "can not", "unable to", "not able to", "can’t")
_add("max", "max", "max", "max.", "maximum", "at most", "up to", "no more than", "not more than",
     "never more than", "no more then", "not more then", "tops", "at the most", "limit", "limited to",
     "cap", "capped at", "or less", "or fewer", "no longer than", "not longer than", "a max of", "a maximum of",
     "≤", "<=", "max of", "upto", "no more", "maximal")
_add("min", "min", "at least", "minimum", "min", "min.", "no less than", "not less than", "no fewer than",
     "a minimum of", "≥", ">=", "or more", "at the least")
_add("gt", "gt", "more than", "longer than", "over", "above", "beyond", "more then", "exceed", "exceeding",
     "over than", ">")
_add("lt", "lt", "less than", "shorter than", "under", "below", "fewer than", "less then", "<")
_add("exactly", "exactly", "exactly", "precisely")
_add("between", "between", "between", "beetween")
_add("only", "only", "only", "nothing but", "exclusively", "only have")
_add("except", "except", "except", "except for", "except on", "apart from", "other than", "but not", "excluding",
     "bar", "save for")
_add("period", "week", "a week", "per week", "each week", "every week", "weekly", "in a week", "/week", "/wk",
     "/w", "a wk", "per wk", "wk", "week", "in total per week", "per week in total", "a week total",
     "a week in total", "each week total", "in total a week", "weekly total", "total per week", "per week total")
_add("period", "day", "per day", "a day", "each day", "in a day")
_add("period", "ride", "per ride", "per session", "each ride", "any ride", "every ride", "a ride", "per workout",
     "each session", "any session", "in one ride", "one ride", "ride length", "at a time")
_add("rest", "rest", "rest", "rest day", "rest days", "resting", "recover", "full rest", "complete rest",
     "rest completely", "day of rest")
_add("off", "off", "off", "day off", "days off", "a day off", "out", "off the bike", "off limits",
     "off-limits", "out of bounds")
_add("unavail", "unavail", "busy", "no time", "working", "i work", "work", "away", "on holiday", "holiday",
     "holidays", "travelling", "traveling", "travel", "out of the country", "out of town", "on vacation",
     "vacation", "not available", "unavailable")
_add("possible", "possible", "possible")
_add("free_time", "free", "free", "off work", "day off work", "days off work", "not working", "don't work", "free from work")
_add("cadence", "on", "weeks on", "week on")
_add("cadence", "load", "loading", "loading weeks", "loading week", "hard weeks", "hard week", "up", "build weeks",
     "weeks of build", "load weeks", "load", "weeks up")
_add("cadence", "off", "weeks off", "week off", "down", "weeks down", "week down")
_add("cadence", "fortnightly", "fortnightly", "biweekly", "bi-weekly", "every other week", "every second week",
     "every 2nd week")
_add("ramp", "ramp", "ramp", "ramp rate", "ramp up", "build up", "building up", "build load", "load up", "increase", "increases", "rise", "climb", "go up", "goes up",
     "grow", "add", "progress", "progression", "jump", "jumps", "increase in", "more each week",
     "week to week", "week on week", "week-on-week", "week over week", "from week to week", "each week to the next")
_add("metric", "tss", "tss", "load", "training load", "weekly tss", "weekly load", "stress")
_add("metric", "hours", "volume", "weekly hours", "weekly volume")
_add("metric", "ctl", "ctl", "fitness")
_add("metric", "distance", "distance", "weekly distance", "mileage", "weekly km", "weekly mileage")
_add("venue", "indoor", "indoor", "indoors", "inside", "trainer", "on the trainer", "indoor trainer", "turbo",
     "the turbo", "zwift", "on zwift", "rollers", "the rollers", "smart trainer", "inside on the trainer")
_add("venue", "outdoor", "outdoor", "outdoors", "outside", "on the road", "on the roads", "out on the road")
_add("seq", "b2b", "back to back", "back-to-back", "in a row", "consecutive", "consecutively", "running",
     "on consecutive days", "on back-to-back days", "on back to back days", "straight")
_add("seq", "apart", "apart")
_add("seq", "after", "after", "following", "after every", "after each", "after any")
_add("seq", "then", "then", "followed by")
_add("seq", "after_ref", "after each one", "after every one", "after each of them", "after it", "after them",
     "after that one")
_add("seq", "next", "the next day", "next day", "the day after", "the following day", "day after")
_add("seq", "before", "the day before", "day before", "before")
_add("fixed", "group", "group ride", "group rides", "club run", "club ride", "club rides", "club runs",
     "chaingang", "chain gang", "worlds", "the worlds", "bunch ride", "fast club ride",
     "social ride", "hard group ride", "shop ride", "club run ride")
_add("fixed", "cafe", "café ride", "cafe ride", "coffee ride")
_add("fixed", "crit", "crit", "crits", "criterium", "criteriums", "race crits", "crit races", "crit race")
_add("fixed", "zwift_race", "zwift race", "turbo race", "zwift races", "turbo races", "race on zwift",
     "turbo race on zwift", "zwift racing")
_add("fixed", "commute", "commute", "commutes", "commuting", "bike commute", "commute by bike", "ride to work",
     "cycle to work", "ride to work and home again", "cycle to work and back", "ride to work and back",
     "to work and back", "commute to work", "bike to work")
_add("way", "each", "each way", "each leg", "per leg", "every way", "both ways each")
_add("way", "round", "round trip", "return", "round-trip", "in total")
_add("rides", "rides", "ride", "rides", "session", "sessions", "workout", "workouts", "training", "riding",
     "training sessions", "bike rides", "outings", "outing", "cycling", "bike", "the bike")
_add("train", "train", "train", "ride", "cycle", "go out", "do", "get out", "schedule", "put", "program",
     "give me")
_add("days", "days", "days", "day", "training days", "training day", "riding days", "days of riding",
     "days of training", "days on the bike", "days riding", "days training", "bike days", "weekdays of training")
_add("keep", "keep", "keep", "keep it", "stick to", "hold", "make")
_add("event", "event", "before my race", "before the race", "before the event", "before my event",
     "before race day", "before a race", "before my a race", "before the a race", "out from the race",
     "before my goal event", "before the big day", "before racing")
_add("last", "last", "last", "final", "the last", "the final", "lst")
_add("permit", "permit", "is fine", "are fine", "is ok", "are ok", "are okay", "is okay", "no problem", "allowed",
     "is allowed", "are allowed", "fine", "ok", "okay", "doesn't count", "don't count", "does not count",
     "count as", "counts as")
_add("approx", "approx", "about", "around", "roughly", "approximately", "~", "approx", "circa", "or so", "ish",
     "-ish", "give or take")
_add("cond", "cond", "if", "when", "depending", "depending on", "depends", "depend", "unless", "weather",
     "sometimes", "might", "maybe", "may", "perhaps", "usually", "normally", "typically", "try", "prefer",
     "ideally")
_add("remainder", "remainder", "the rest", "the others", "the other days", "other days")
_add("amount", "amount", "in total", "total", "altogether")
_add("label_eq", "eq", "=", ":", "is for", "are for", "is", "are")
_add("filler", None, "i", "i'm", "im", "i am", "me", "my", "mine", "the", "a", "an", "on", "in", "at", "of",
     "for", "to", "be", "it", "its", "it's", "this", "that", "these", "those", "please", "pls", "plz", "thanks",
     "thank you", "cheers", "sorry", "hi", "hey", "coach", "also", "really", "honestly", "want", "would",
     "like", "i'd", "i'll", "can", "could", "should", "must", "need", "have", "has", "had", "let", "get",
     "with", "as", "by", "any", "all", "every", "each", "or", "n", "&", "/", "-",
     "always", "ever", "again", "there", "here", "of them", "them", "those days",
     "no exceptions", "without exception", "ever again", "kindly", "you", "your", "we", "our", "us", "just",
     "do", "does", "doing", "go", "going", "will", "shall", "is a", "are a", "has to", "have to", "needs to",
     "need to", "must be", "should be", "got", "am", "was", "were", "being", "happy",
     "i can", "for me", "to me", "amount of", "in total", "overall", "whole",
     "anything", "any of", "some", "week's", "sessions'", "training's", "into", "onto", "from", "until",
     "till", "through", "thru", "to be", "is to be", "at the", "on the", "in the", "on a", "my plan", "the plan",
     "plan", "bit about me", "about me", "allow", "let's", "lets", "set", "keep to", "hi!",
     "leave", "given", "place", "make sure", "ensure", "entire", "every single", "hi coach", "take", "everything",
     "with friends", "with my friends", "for this one", "this one", "this time", "here", "no exceptions", "ok?",
     "at all", "in general", "generally", "total", "you know", "bit", "okay so")
_add("unitword", "percent", "per cent")
_add("drop", "drop", "less", "drop", "cut", "reduce", "reduced", "reduction", "lower", "fewer", "down by")
_add("filler", None, "club", "pattern", "manage", "handle", "afford", "fit in", "squeeze in", "during", "throughout", "(", ")", "programme", "program", "plan", "the rest of the", "rest of the", "the rest of my",
     "full time", "full-time", "work full time")
_add("eventweek", 7, "the week of the race", "the week of my race", "the week of the event", "race week",
     "race-week", "the race week", "in race week", "the week of my event", "event week")
_add("eventday", 1, "the day before my race", "day before my race", "the day before the race",
     "the day before the event", "the day before my event", "day before the race", "race eve", "the eve of the race")
_add("days", "weekdays", "weekdays of training", "weekdays of riding", "weekdays on the bike")
_add("tod", "tod", "morning", "mornings", "evening", "evenings", "night", "nights", "afternoon", "afternoons",
     "lunchtime", "lunch", "am", "pm", "early", "late")
_add("easy_marker", "easy", "not hard", "social pace", "social", "chatty pace", "no-drop", "steady", "relaxed")
_add("ref", "ref", "each one", "every one", "each of them")

# words a typo may be corrected to (single words of the vocabulary that carry meaning)
TYPO_TARGETS: tuple[str, ...] = tuple(sorted({
    *[w for w in DAY_WORDS if len(w) >= 6], "weekdays", "weekday", "weekends", "weekend",
    "intervals", "interval", "sessions", "session", "threshold", "sweetspot", "tempo", "anaerobic", "sprints",
    "recovery", "endurance", "workouts", "workout", "maximum", "minimum", "between", "always", "week", "weekly",
    "taper", "hours", "minutes", "rides", "training", "consecutive", "except", "indoors", "outdoors", "trainer",
    "commute", "rollers", "rest", "more", "than", "last", "least", "most", "never", "without", "longer", "shorter",
    "easy", "hard", "long", "build", "base", "peak", "kilometres", "miles", "increase", "ramp", "riding",
    "back", "group", "weeks",
}))

# common English words that look like a vocabulary word one letter away and must never be "corrected"
PROTECTED: frozenset[str] = frozenset({
    "rain", "fine", "wet", "weak", "hot", "cold", "heat", "hill", "hills", "fun", "run", "runs", "sum", "mine",
    "wind", "ride", "tide", "line", "five", "live", "love", "lose", "rose", "lost", "host", "most", "best",
    "test", "tests", "west", "east", "fast", "past", "vast", "mist", "list", "lust", "base", "case", "vase",
    "race", "face", "pace", "rice", "nice", "dice", "ice", "miles", "mile", "smiles", "tiles", "hours", "ours",
    "four", "tour", "pour", "sour", "your", "year", "years", "gear", "gears", "near", "hear", "fear", "tear",
    "week", "seek", "peek", "meek", "geek", "cheek", "wake", "bake", "make", "take", "sake", "lake", "cake",
    "hike", "bike", "like", "mike", "pike", "tyke", "tired", "tried", "fired", "hired", "wired", "group", "soup",
    "grout", "road", "load", "toad", "read", "lead", "dead", "head", "bread", "tread", "morning", "mornings",
    "evening", "evenings", "night", "light", "right", "tight", "might", "sight", "fight", "eight", "weight",
    "kids", "kid", "wife", "life", "knife", "knee", "knees", "back", "pack", "hack", "rack", "sack", "track",
    "more", "mare", "core", "bore", "wore", "sore", "tore", "lore", "store", "shore", "score", "chore",
    "than", "then", "that", "what", "when", "thin", "thus", "this", "there", "their", "they", "them", "these",
    "trainers", "strain", "stain", "brain", "drain", "grain", "plain", "again", "main", "pain", "gain",
    "teams", "team", "seams", "dreams", "reams", "beams", "creams", "steams", "shams", "dams", "hams", "jams",
    "yoga", "gym", "swim", "walk", "walks", "dog", "dogs", "cat", "kind", "mind", "find", "bind", "wine",
    "rest", "nest", "jest", "pest", "vest", "zest", "lest", "quest", "chest", "guest", "crest",
    "easy", "ease", "hard", "card", "yard", "lard", "ward", "bard", "guard", "long", "song", "tong",
    "wrong", "strong", "along", "among", "belong", "taper", "paper", "caper", "later", "water", "eater",
    "tempo", "temp", "rollers", "rolls", "roller", "tours", "hour", "flour", "sundry", "sunday", "stroll",
    "sale", "tale", "male", "gale", "pale", "dale", "bale", "vale", "wale", "hale", "kale",
    "monkey", "money", "honey", "friend", "friends", "fried", "fries", "free", "tree", "three", "tuesday",
})
