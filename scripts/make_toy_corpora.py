#!/usr/bin/env python3
"""Generate the bundled toy English-Hindi corpora in corpora/toy/ (deterministic, stdlib only).

Everything comes from templates x slot lexicons below, drawn with one ``random.Random(seed)``:

  general.en / general.hi   3,000 aligned pairs of general-domain text (~12 % voice-assistant-like)
  seed.hi                   400 Hindi in-domain voice-assistant requests
  source.en / source.ref.hi 1,500 English in-domain requests and their Hindi references
  dev.hi / test.hi          200 Hindi in-domain requests each

All in-domain sets come from one shuffled pool of distinct Hindi sentences (so the same domain
distribution, no shared sentences), and general-domain sentences are drawn after them with the
same "seen" set, so no Hindi sentence occurs in two files. Template syntax (both languages):
``{SLOT}`` / ``{SLOT2}`` a lexicon value (a second slot of one lexicon gets a different value),
``{g:masc|fem}`` agreement with the first gendered slot, ``[a|b|c]`` a free variant.

    python scripts/make_toy_corpora.py [--seed 13] [--out corpora/toy]
"""
from __future__ import annotations

import argparse
import random
import re
import unicodedata
from pathlib import Path

N_GENERAL, LIKE_SHARE, N_SEED, N_SOURCE, N_DEV, N_TEST = 3000, 0.12, 400, 1500, 200, 200

# ----------------------------------------------------------------------------- numbers, times
HI_NUM = dict(enumerate(
    "शून्य एक दो तीन चार पाँच छह सात आठ नौ दस ग्यारह बारह तेरह चौदह पंद्रह सोलह सत्रह अठारह "
    "उन्नीस बीस इक्कीस बाईस तेईस चौबीस पच्चीस छब्बीस सत्ताईस अट्ठाईस उनतीस तीस इकतीस बत्तीस "
    "तैंतीस चौंतीस पैंतीस छत्तीस सैंतीस अड़तीस उनतालीस चालीस इकतालीस बयालीस तैंतालीस चवालीस "
    "पैंतालीस छियालीस सैंतालीस अड़तालीस उनचास पचास".split()))
HI_NUM.update({60: "साठ", 70: "सत्तर", 80: "अस्सी", 90: "नब्बे", 100: "सौ"})
_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def en_num(n: int) -> str:
    if n == 100:
        return "a hundred"
    return _ONES[n] if n < 20 else _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])


def nums(values) -> list[tuple[str, str]]:
    return [(en_num(n), HI_NUM[n]) for n in values]


# (English part of day, Hindi part of day, hours, am/pm) ; Hindi says the part of day first.
PARTS = [("in the morning", "सुबह", [5, 6, 7, 8, 9, 10, 11], "am"),
         ("in the afternoon", "दोपहर", [12, 1, 2, 3], "pm"),
         ("in the evening", "शाम", [4, 5, 6, 7], "pm"),
         ("at night", "रात", [8, 9, 10, 11], "pm")]


def _half(h: int) -> str:  # 1:30 = डेढ़, 2:30 = ढाई, otherwise साढ़े + hour
    return {1: "डेढ़", 2: "ढाई"}.get(h, "साढ़े " + HI_NUM[h])


def _times() -> tuple[list, list]:
    words, digits = [], []
    for pe, ph, hours, ampm in PARTS:
        for h in hours:
            nxt = h % 12 + 1
            words.append(("twelve noon", "दोपहर बारह बजे") if h == 12 else
                         (f"{en_num(h)} {pe}", f"{ph} {HI_NUM[h]} बजे"))
            words.append((f"{en_num(h)} thirty {pe}", f"{ph} {_half(h)} बजे"))
            words.append((f"a quarter past {en_num(h)} {pe}", f"{ph} सवा {HI_NUM[h]} बजे"))
            words.append((f"a quarter to {en_num(nxt)} {pe}", f"{ph} पौने {HI_NUM[nxt]} बजे"))
            digits.append((f"{h} {ampm}", f"{ph} {h} बजे"))
            digits.append((f"{h}:30 {ampm}", f"{ph} {h}:30 बजे"))
    return words, digits


TIME_WORDS, TIME_DIGITS = _times()


def time_slot(rng: random.Random):
    return rng.choice(TIME_DIGITS if rng.random() < 0.1 else TIME_WORDS)


DUR_WORDS = ([("one minute", "एक मिनट")] + [(f"{en_num(n)} minutes", f"{HI_NUM[n]} मिनट")
             for n in (2, 3, 4, 5, 7, 8, 10, 12, 15, 20, 25, 30, 35, 40, 45, 50)]
             + [("half an hour", "आधे घंटे"), ("an hour", "एक घंटे"), ("an hour and a half", "डेढ़ घंटे"),
                ("two hours", "दो घंटे"), ("two and a half hours", "ढाई घंटे"), ("three hours", "तीन घंटे")])
DUR_DIGITS = [(f"{n} minutes", f"{n} मिनट") for n in (5, 10, 15, 20, 25, 30, 40, 45, 90)]


SECONDS = [(f"{en_num(n)} seconds", f"{HI_NUM[n]} सेकंड") for n in (10, 20, 30, 45)]


def dur_slot(rng: random.Random):
    return rng.choice(DUR_DIGITS if rng.random() < 0.08 else DUR_WORDS)


def timer_slot(rng: random.Random):  # a timer may also run for seconds
    return rng.choice(SECONDS) if rng.random() < 0.12 else dur_slot(rng)


# ----------------------------------------------------------------------------- slot lexicons
DAYS = [("Monday", "सोमवार"), ("Tuesday", "मंगलवार"), ("Wednesday", "बुधवार"), ("Thursday", "गुरुवार"),
        ("Friday", "शुक्रवार"), ("Saturday", "शनिवार"), ("Sunday", "रविवार")]
MONTHS = list(zip("January February March April May June July August September October November December".split(),
                  "जनवरी फ़रवरी मार्च अप्रैल मई जून जुलाई अगस्त सितंबर अक्टूबर नवंबर दिसंबर".split()))
CITIES = [("Delhi", "दिल्ली"), ("Mumbai", "मुंबई"), ("Bangalore", "बेंगलुरु"), ("Chennai", "चेन्नई"),
          ("Kolkata", "कोलकाता"), ("Hyderabad", "हैदराबाद"), ("Pune", "पुणे"), ("Jaipur", "जयपुर"),
          ("Lucknow", "लखनऊ"), ("Patna", "पटना"), ("Bhopal", "भोपाल"), ("Chandigarh", "चंडीगढ़"),
          ("Ahmedabad", "अहमदाबाद"), ("Varanasi", "वाराणसी"), ("Shimla", "शिमला"), ("Goa", "गोवा"),
          ("Indore", "इंदौर"), ("Kanpur", "कानपुर"), ("Agra", "आगरा"), ("Nagpur", "नागपुर"),
          ("Dehradun", "देहरादून"), ("Amritsar", "अमृतसर"), ("Surat", "सूरत"), ("Ranchi", "रांची"),
          ("Guwahati", "गुवाहाटी"), ("Noida", "नोएडा"), ("Gurgaon", "गुड़गाँव")]
NAMES = [("Rahul", "राहुल", "m"), ("Priya", "प्रिया", "f"), ("Amit", "अमित", "m"), ("Neha", "नेहा", "f"),
         ("Sunita", "सुनीता", "f"), ("Ravi", "रवि", "m"), ("Pooja", "पूजा", "f"), ("Vikram", "विक्रम", "m"),
         ("Anjali", "अंजलि", "f"), ("Rohan", "रोहन", "m"), ("Deepak", "दीपक", "m"), ("Kavita", "कविता", "f"),
         ("Suresh", "सुरेश", "m"), ("Manoj", "मनोज", "m"), ("Sneha", "स्नेहा", "f"), ("Arjun", "अर्जुन", "m"),
         ("Meera", "मीरा", "f"), ("Sanjay", "संजय", "m"), ("Ayesha", "आयशा", "f"), ("Imran", "इमरान", "m"),
         ("Harpreet", "हरप्रीत", "f"), ("Karan", "करन", "m"), ("Ritu", "रितु", "f"), ("Nikhil", "निखिल", "m")]
CONTACTS = [n[:2] for n in NAMES] + [
    ("Mom", "मम्मी"), ("Dad", "पापा"), ("Grandma", "दादी"), ("Grandpa", "दादाजी"), ("my brother", "भैया"),
    ("my sister", "दीदी"), ("my uncle", "चाचा जी"), ("my aunt", "मौसी"), ("Sharma ji", "शर्मा जी"),
    ("Gupta ji", "गुप्ता जी"), ("the doctor", "डॉक्टर साहब"), ("my boss", "मेरे बॉस")]
RELS = [("my brother", "मेरा भाई", "m"), ("my sister", "मेरी बहन", "f"), ("my friend", "मेरा दोस्त", "m"),
        ("my daughter", "मेरी बेटी", "f"), ("my son", "मेरा बेटा", "m"), ("my neighbour", "मेरा पड़ोसी", "m"),
        ("my aunt", "मेरी मौसी", "f"), ("my colleague", "मेरी सहकर्मी", "f"), ("my nephew", "मेरा भतीजा", "m")]
ARTISTS = [("Arijit Singh", "अरिजीत सिंह", "m"), ("Lata Mangeshkar", "लता मंगेशकर", "f"),
           ("Kishore Kumar", "किशोर कुमार", "m"), ("Shreya Ghoshal", "श्रेया घोषाल", "f"),
           ("A R Rahman", "ए आर रहमान", "m"), ("Sonu Nigam", "सोनू निगम", "m"), ("Badshah", "बादशाह", "m"),
           ("Atif Aslam", "आतिफ़ असलम", "m"), ("Neha Kakkar", "नेहा कक्कड़", "f"),
           ("Mohammed Rafi", "मोहम्मद रफ़ी", "m"), ("Jagjit Singh", "जगजीत सिंह", "m"),
           ("Diljit Dosanjh", "दिलजीत दोसांझ", "m"), ("Kumar Sanu", "कुमार सानू", "m"),
           ("Asha Bhosle", "आशा भोसले", "f"), ("Udit Narayan", "उदित नारायण", "m"),
           ("Sunidhi Chauhan", "सुनिधि चौहान", "f"), ("Mohit Chauhan", "मोहित चौहान", "m"),
           ("Armaan Malik", "अरमान मलिक", "m"), ("Alka Yagnik", "अलका याज्ञिक", "f"), ("Shaan", "शान", "m")]
SONGS = [("Tum Hi Ho", "तुम ही हो", 0), ("Kesariya", "केसरिया", 0), ("Channa Mereya", "चन्ना मेरेया", 0),
         ("Lag Ja Gale", "लग जा गले", 1), ("Ajeeb Dastan Hai Yeh", "अजीब दास्ताँ है ये", 1),
         ("Mere Sapnon Ki Rani", "मेरे सपनों की रानी", 2), ("Pal Pal Dil Ke Paas", "पल पल दिल के पास", 2),
         ("Teri Meri", "तेरी मेरी", 3), ("Jai Ho", "जय हो", 4), ("Kal Ho Naa Ho", "कल हो ना हो", 5),
         ("Tujh Mein Rab Dikhta Hai", "तुझ में रब दिखता है", 3), ("Tere Bin", "तेरे बिन", 7),
         ("Chura Liya Hai Tumne", "चुरा लिया है तुमने", 13), ("Kabira", "कबीरा", 0), ("Gerua", "गेरुआ", 0),
         ("Lambiyan Si Judaiyan", "लंबियाँ सी जुदाइयाँ", 0), ("Chaudhvin Ka Chand", "चौदहवीं का चाँद", 9),
         ("Tum Itna Jo Muskura Rahe Ho", "तुम इतना जो मुस्कुरा रहे हो", 10), ("Kun Faya Kun", "कुन फ़ाया कुन", 4),
         ("Tum Se Hi", "तुम से ही", 16), ("Tujhe Dekha To", "तुझे देखा तो", 12)]
SONG = [(e, h) for e, h, _ in SONGS]
SONGBY = [(f"{e} by {ARTISTS[a][0]}", f"{ARTISTS[a][1]} का {h}") for e, h, a in SONGS]
GENRES = [("old Hindi songs", "पुराने हिंदी गाने"), ("Punjabi songs", "पंजाबी गाने"),
          ("romantic songs", "रोमांटिक गाने"), ("sad songs", "दर्द भरे गाने"), ("party songs", "पार्टी वाले गाने"),
          ("devotional songs", "भक्ति गीत"), ("songs from the nineties", "नब्बे के दशक के गाने"),
          ("new Bollywood songs", "नए बॉलीवुड गाने"), ("morning bhajans", "सुबह के भजन"),
          ("ghazals", "ग़ज़लें"), ("lullabies for the baby", "बच्चे के लिए लोरियाँ"),
          ("instrumental music", "इंस्ट्रुमेंटल म्यूज़िक"), ("Hanuman Chalisa", "हनुमान चालीसा"),
          ("Sufi songs", "सूफ़ी गाने"), ("wedding songs", "शादी वाले गाने")]
APPS = [("Spotify", "स्पॉटिफ़ाई"), ("YouTube", "यूट्यूब"), ("YouTube Music", "यूट्यूब म्यूज़िक"),
        ("JioSaavn", "जियोसावन"), ("Gaana", "गाना ऐप")]
MOVIES = [("Sholay", "शोले"), ("Dilwale Dulhania Le Jayenge", "दिलवाले दुल्हनिया ले जाएँगे"),
          ("Rockstar", "रॉकस्टार"), ("Dil Chahta Hai", "दिल चाहता है"), ("Jab We Met", "जब वी मेट"),
          ("Lagaan", "लगान"), ("Kuch Kuch Hota Hai", "कुछ कुछ होता है"), ("Aashiqui 2", "आशिक़ी 2"),
          ("Yeh Jawaani Hai Deewani", "ये जवानी है दीवानी"), ("Three Idiots", "थ्री इडियट्स")]
PLAYLISTS = [("workout", "वर्कआउट"), ("morning", "सुबह"), ("travel", "सफ़र"), ("party", "पार्टी"),
             ("study", "पढ़ाई"), ("sleep", "नींद")]
ROOMS = [("bedroom", "बेडरूम"), ("kitchen", "रसोई"), ("living room", "हॉल"), ("bathroom", "बाथरूम"),
         ("balcony", "बालकनी"), ("study room", "स्टडी रूम"), ("kids' room", "बच्चों के कमरे")]
DISHES = [("rice", "चावल"), ("dal", "दाल"), ("pasta", "पास्ता"), ("eggs", "अंडों"), ("cake", "केक"),
          ("tea", "चाय"), ("potatoes", "आलू"), ("noodles", "नूडल्स"), ("milk", "दूध"), ("khichdi", "खिचड़ी")]
MSGS = [("I am running late", "मुझे देर हो रही है"), ("I will reach in ten minutes", "मैं दस मिनट में पहुँच जाऊँगा"),
        ("call me back", "मुझे वापस फ़ोन करना"), ("happy birthday", "जन्मदिन मुबारक हो"),
        ("I am on my way", "मैं रास्ते में हूँ"), ("dinner is ready", "खाना तैयार है"),
        ("I will call you later", "मैं तुम्हें बाद में फ़ोन करूँगा"),
        ("bring milk on the way home", "घर आते समय दूध ले आना"),
        ("the meeting is cancelled", "मीटिंग रद्द हो गई है"), ("I have reached home", "मैं घर पहुँच गया हूँ"),
        ("good morning", "गुड मॉर्निंग"), ("where are you", "तुम कहाँ हो"), ("I am in a meeting", "मैं मीटिंग में हूँ"),
        ("please pick me up from the station", "मुझे स्टेशन से ले लेना"), ("don't forget the keys", "चाबी मत भूलना")]
TELL = [m for m in MSGS if m[0].startswith(("I ", "the ", "dinner"))]  # statements, not requests
TASKS = [("take my medicine", "दवाई लेने"), ("call Mom", "मम्मी को फ़ोन करने"),
         ("pay the electricity bill", "बिजली का बिल भरने"), ("water the plants", "पौधों में पानी डालने"),
         ("buy milk", "दूध लाने"), ("pick up the kids from school", "बच्चों को स्कूल से लाने"),
         ("go to the gym", "जिम जाने"), ("drink water", "पानी पीने"), ("submit the assignment", "असाइनमेंट जमा करने"),
         ("go to the bank", "बैंक जाने"), ("book the train tickets", "ट्रेन के टिकट बुक करने"),
         ("recharge my phone", "फ़ोन रिचार्ज करने"), ("join the meeting", "मीटिंग में शामिल होने"),
         ("wish Rahul a happy birthday", "राहुल को जन्मदिन की बधाई देने"), ("take out the trash", "कूड़ा बाहर रखने"),
         ("pay the rent", "किराया देने"), ("go for a walk", "टहलने जाने"), ("turn off the gas", "गैस बंद करने"),
         ("feed the dog", "कुत्ते को खाना खिलाने"), ("check my email", "ईमेल देखने"), ("buy vegetables", "सब्ज़ी लाने"),
         ("do yoga", "योग करने"), ("study for the exam", "परीक्षा की पढ़ाई करने"),
         ("call the doctor", "डॉक्टर को फ़ोन करने"), ("go to the temple", "मंदिर जाने"),
         ("iron my clothes", "कपड़े प्रेस करने"), ("charge the car", "गाड़ी चार्ज करने")]
DAYW = ([("tomorrow", "कल"), ("today", "आज"), ("the day after tomorrow", "परसों"), ("every day", "रोज़")]
        + [(f"on {e}", f"{h} को") for e, h in DAYS] + [(f"every {e}", f"हर {h}") for e, h in DAYS[::3]])
WNOW = [("today", "आज"), ("right now", "अभी"), ("this morning", "आज सुबह")]
WFUT = [("tomorrow", "कल"), ("this weekend", "इस वीकेंड"), ("tonight", "आज रात"), ("tomorrow morning", "कल सुबह"),
        ("the day after tomorrow", "परसों"), ("this evening", "आज शाम")] + [(f"on {e}", f"{h} को") for e, h in DAYS[4:]]
PLACES = [("market", "बाज़ार", "m"), ("hospital", "अस्पताल", "m"), ("bank", "बैंक", "m"), ("post office", "डाकघर", "m"),
          ("railway station", "रेलवे स्टेशन", "m"), ("temple", "मंदिर", "m"), ("park", "पार्क", "m"),
          ("pharmacy", "दवा की दुकान", "f"), ("ATM", "एटीएम", "m"), ("petrol pump", "पेट्रोल पंप", "m"),
          ("police station", "पुलिस स्टेशन", "m"), ("library", "पुस्तकालय", "m"), ("mall", "मॉल", "m"),
          ("bus stop", "बस स्टॉप", "m"), ("school", "स्कूल", "m")]
PROFS = [("a doctor", "डॉक्टर"), ("a teacher", "टीचर"), ("an engineer", "इंजीनियर"), ("a lawyer", "वकील"),
         ("a nurse", "नर्स"), ("a farmer", "किसान"), ("a pilot", "पायलट"), ("a shopkeeper", "दुकानदार"),
         ("a journalist", "पत्रकार"), ("an accountant", "अकाउंटेंट")]
FOODS = [("biryani", "बिरयानी", "f"), ("dal makhani", "दाल मखनी", "f"), ("masala dosa", "मसाला डोसा", "m"),
         ("paneer tikka", "पनीर टिक्का", "m"), ("aloo paratha", "आलू पराठा", "m"), ("poha", "पोहा", "m"),
         ("khichdi", "खिचड़ी", "f"), ("pav bhaji", "पाव भाजी", "f"), ("kheer", "खीर", "f"), ("halwa", "हलवा", "m"),
         ("rajma", "राजमा", "m"), ("upma", "उपमा", "m"), ("chicken curry", "चिकन करी", "f")]
VEGS = [("potatoes", "आलू"), ("onions", "प्याज़"), ("tomatoes", "टमाटर"), ("rice", "चावल"), ("sugar", "चीनी"),
        ("flour", "आटा"), ("apples", "सेब"), ("mangoes", "आम"), ("carrots", "गाजर"), ("peas", "मटर"),
        ("lentils", "दाल"), ("grapes", "अंगूर")]
QTYS = [("one kilo", "एक किलो"), ("two kilos", "दो किलो"), ("half a kilo", "आधा किलो"), ("three kilos", "तीन किलो"),
        ("five kilos", "पाँच किलो"), ("a kilo and a half", "डेढ़ किलो"), ("250 grams", "250 ग्राम")]
DRINKS = [("tea", "चाय"), ("coffee", "कॉफ़ी"), ("hot milk", "गरम दूध"), ("green tea", "ग्रीन टी"),
          ("masala tea", "मसाला चाय")]
ITEMS = [("shirt", "कमीज़", "f"), ("phone", "फ़ोन", "m"), ("bag", "बैग", "m"), ("watch", "घड़ी", "f"),
         ("saree", "साड़ी", "f"), ("book", "किताब", "f"), ("laptop", "लैपटॉप", "m"), ("umbrella", "छाता", "m"),
         ("bottle", "बोतल", "f"), ("jacket", "जैकेट", "f"), ("pen", "पेन", "m"), ("television", "टीवी", "m"),
         ("pressure cooker", "प्रेशर कुकर", "m"), ("bicycle", "साइकिल", "f")]
SUBJECTS = [("maths", "गणित"), ("science", "विज्ञान"), ("Hindi", "हिंदी"), ("English", "अंग्रेज़ी"),
            ("history", "इतिहास"), ("geography", "भूगोल"), ("physics", "भौतिकी"), ("chemistry", "रसायन विज्ञान"),
            ("computer science", "कंप्यूटर विज्ञान"), ("economics", "अर्थशास्त्र")]
FREQS = [("twice a day", "दिन में दो बार"), ("after meals", "खाने के बाद"), ("before sleeping", "सोने से पहले"),
         ("three times a day", "दिन में तीन बार"), ("every morning", "हर सुबह"), ("on an empty stomach", "ख़ाली पेट")]
UIACTS = [("open", "खोलें"), ("save", "सहेजें"), ("delete", "हटाएँ"), ("copy", "कॉपी करें"), ("close", "बंद करें"),
          ("print", "प्रिंट करें"), ("share", "शेयर करें"), ("download", "डाउनलोड करें"), ("upload", "अपलोड करें"),
          ("move", "मूव करें")]
UIOBJS = [("file", "फ़ाइल", "f"), ("folder", "फ़ोल्डर", "m"), ("document", "दस्तावेज़", "m"), ("image", "तस्वीर", "f"),
          ("page", "पेज", "m"), ("window", "विंडो", "f"), ("tab", "टैब", "m"), ("report", "रिपोर्ट", "f"),
          ("attachment", "अटैचमेंट", "m"), ("video", "वीडियो", "m")]
WHENP = [("yesterday", "कल"), ("this morning", "आज सुबह"), ("last night", "कल रात"), ("last week", "पिछले हफ़्ते"),
         ("on Sunday", "रविवार को")]

LEX = {"TIME": time_slot, "DUR": dur_slot, "TDUR": timer_slot, "TELL": TELL, "DAY": DAYS, "MONTH": MONTHS,
       "CITY": CITIES, "NAME": NAMES, "CONTACT": CONTACTS, "REL": RELS, "ARTIST": ARTISTS, "SONG": SONG,
       "SONGBY": SONGBY, "GENRE": GENRES, "APP": APPS, "MOVIE": MOVIES, "PLAYLIST": PLAYLISTS, "ROOM": ROOMS,
       "DISH": DISHES, "MSG": MSGS,
       "TASK": TASKS, "DAYW": DAYW, "WNOW": WNOW, "WFUT": WFUT, "PLACE": PLACES, "PROF": PROFS, "FOOD": FOODS,
       "VEG": VEGS, "QTY": QTYS, "DRINK": DRINKS, "ITEM": ITEMS, "SUBJ": SUBJECTS, "FREQ": FREQS,
       "UIACT": UIACTS, "UIOBJ": UIOBJS, "WHENP": WHENP,
       "VOL": nums([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30, 40, 50, 60, 70, 80]) + [("25", "25"), ("75", "75")],
       "DEG": nums(range(17, 28)), "AGE": nums(range(3, 41)), "SMALL": nums(range(2, 11)),
       "RUNS": nums(range(11, 51)), "PAGE": nums(range(5, 51))}

# ----------------------------------------------------------------------------- in-domain templates
# intent -> (weight, [(English, Hindi, kind)]) ; kind "q" question, "c" command (for end punctuation)
SET = "[लगाओ|लगा दो|सेट करो|सेट कर दो|लगाइए|लगा देना]"
CALL = "[फ़ोन करो|फ़ोन लगाओ|कॉल करो|फ़ोन मिलाओ|फ़ोन लगा दो|कॉल लगाओ]"
PLAY = "[चलाओ|बजाओ|लगाओ|सुनाओ|चला दो|बजा दो]"
REMIND = "[याद दिलाना|याद दिला देना|याद दिलाइए]"
INDOMAIN = {
    "alarm": (18, [
        ("set an alarm for {TIME}", "{TIME} का अलार्म " + SET, "c"),
        ("set an alarm for {TIME} {DAYW}", "{DAYW} {TIME} का अलार्म " + SET, "c"),
        ("wake me up at {TIME}", "मुझे {TIME} [उठा देना|जगा देना|उठा दो]", "c"),
        ("wake me up {DAYW} at {TIME}", "{DAYW} {TIME} मुझे [उठा देना|जगा देना]", "c"),
        ("cancel the alarm for {TIME}", "{TIME} वाला अलार्म [हटा दो|बंद कर दो|कैंसल करो]", "c"),
        ("change my alarm from {TIME} to {TIME2}", "अलार्म {TIME} से बदलकर {TIME2} कर दो", "c"),
        ("snooze the alarm for {DUR}", "अलार्म [को|] {DUR} के लिए स्नूज़ कर दो", "c"),
        ("set an alarm {DUR} from now", "अभी से {DUR} बाद का अलार्म " + SET, "c"),
        ("turn off all my alarms", "मेरे सारे अलार्म बंद कर दो", "c"),
        ("show me all my alarms", "मेरे सारे अलार्म दिखाओ", "c"),
        ("stop the alarm", "अलार्म [बंद करो|बंद कर दो|स्टॉप करो]", "c"),
        ("what time is my alarm set for tomorrow", "कल का अलार्म कितने बजे का है", "q"),
        ("is there an alarm for tomorrow morning", "क्या कल सुबह का कोई अलार्म लगा है", "q")]),
    "timer": (11, [
        ("set a timer for {TDUR}", "{TDUR} का टाइमर [लगाओ|लगा दो|सेट करो|चालू करो|लगाइए]", "c"),
        ("start a timer for {DUR} for the {DISH}", "{DISH} के लिए {DUR} का टाइमर [लगाओ|लगा दो]", "c"),
        ("please set a timer for {DUR}", "[ज़रा|प्लीज़] {DUR} का टाइमर लगा दो", "c"),
        ("how much time is left on the timer", "टाइमर में कितना [समय|टाइम] बचा है", "q"),
        ("stop the timer", "टाइमर [बंद करो|बंद कर दो|स्टॉप करो]", "c"),
        ("pause the timer", "टाइमर [रोक दो|पॉज़ करो]", "c"),
        ("cancel the timer for {DUR}", "{DUR} वाला टाइमर [हटा दो|कैंसल करो]", "c"),
        ("add {DUR} to the timer", "टाइमर में {DUR} और [जोड़ दो|बढ़ा दो]", "c"),
        ("start the stopwatch", "स्टॉपवॉच [चालू करो|शुरू करो]", "c")]),
    "weather": (16, [
        ("what's the weather like in {CITY} {WNOW}", "{WNOW} {CITY} में मौसम कैसा है", "q"),
        ("what will the weather be like in {CITY} {WFUT}", "{WFUT} {CITY} में मौसम कैसा रहेगा", "q"),
        ("what's the weather {WFUT}", "{WFUT} मौसम कैसा रहेगा", "q"),
        ("how is the weather today", "आज मौसम कैसा है", "q"),
        ("will it rain in {CITY} {WFUT}", "क्या {WFUT} {CITY} में बारिश होगी", "q"),
        ("will it rain {WFUT}", "क्या {WFUT} बारिश होगी", "q"),
        ("is it raining in {CITY} right now", "क्या अभी {CITY} में बारिश हो रही है", "q"),
        ("what's the temperature in {CITY} right now",
         "अभी {CITY} [का तापमान कितना है|में कितना तापमान है|में कितने डिग्री है]", "q"),
        ("how hot will it be in {CITY} {WFUT}", "{WFUT} {CITY} में कितनी गर्मी होगी", "q"),
        ("will it be cold in {CITY} {WFUT}", "क्या {WFUT} {CITY} में ठंड होगी", "q"),
        ("do I need an umbrella {WFUT}", "क्या {WFUT} छाता ले जाना पड़ेगा", "q"),
        ("how bad is the pollution in {CITY} today", "आज {CITY} में प्रदूषण कितना है", "q"),
        ("what time is sunrise tomorrow", "कल सूरज कितने बजे निकलेगा", "q"),
        ("tell me the weather in {CITY}", "{CITY} का मौसम [बताओ|बताइए|बता दो]", "c")]),
    "music": (18, [
        ("play songs by {ARTIST}", "{ARTIST} के गाने " + PLAY, "c"),
        ("play some {ARTIST} songs", "{ARTIST} के कुछ गाने [सुनाओ|चलाओ]", "c"),
        ("play the song {SONG}", "{SONG} गाना " + PLAY, "c"),
        ("play {SONGBY}", "{SONGBY} गाना [चलाओ|बजाओ|लगाओ]", "c"),
        ("play {GENRE}", "{GENRE} " + PLAY, "c"),
        ("play some {GENRE}", "कुछ {GENRE} [सुनाओ|चलाओ]", "c"),
        ("play {GENRE} on {APP}", "{APP} पर {GENRE} [चलाओ|लगाओ]", "c"),
        ("play {ARTIST} on {APP}", "{APP} पर {ARTIST} के गाने [चलाओ|लगाओ]", "c"),
        ("play a song from the movie {MOVIE}", "{MOVIE} फ़िल्म का कोई गाना [चलाओ|सुनाओ]", "c"),
        ("play my {PLAYLIST} playlist", "मेरी {PLAYLIST} वाली प्लेलिस्ट [चलाओ|लगाओ]", "c"),
        ("play the next song", "अगला गाना [चलाओ|लगाओ|बजाओ]", "c"),
        ("play the previous song", "पिछला गाना [चलाओ|फिर से चलाओ]", "c"),
        ("skip this song", "[यह|ये] गाना [बदलो|बदल दो|स्किप करो]", "c"),
        ("pause the music", "[गाना|म्यूज़िक] [रोक दो|पॉज़ करो]", "c"),
        ("stop the music", "[गाना|म्यूज़िक] [बंद करो|बंद कर दो|स्टॉप करो]", "c"),
        ("play this song again", "[यह|ये] गाना [फिर से|दोबारा] चलाओ", "c"),
        ("what song is this", "[यह|ये] कौन सा गाना है", "q"),
        ("who sang this song", "[यह|ये] गाना किसने गाया है", "q"),
        ("shuffle my playlist", "मेरी प्लेलिस्ट शफ़ल करो", "c"),
        ("play my favourite songs", "मेरे पसंदीदा गाने [चलाओ|सुनाओ]", "c"),
        ("play the latest news", "ताज़ा ख़बरें सुनाओ", "c")]),
    "device": (7, [
        ("turn up the volume", "[आवाज़ बढ़ाओ|आवाज़ तेज़ करो|वॉल्यूम बढ़ा दो]", "c"),
        ("turn down the volume", "[आवाज़ कम करो|आवाज़ धीमी करो|वॉल्यूम कम कर दो]", "c"),
        ("set the volume to {VOL}", "वॉल्यूम {VOL} पर [कर दो|सेट करो]", "c"),
        ("mute the speaker", "स्पीकर म्यूट कर दो", "c"),
        ("turn on the {ROOM} light", "{ROOM} की [लाइट|बत्ती] [जला दो|चालू करो|ऑन करो]", "c"),
        ("turn off the {ROOM} light", "{ROOM} की [लाइट|बत्ती] [बुझा दो|बंद करो|ऑफ़ करो]", "c"),
        ("turn on the fan", "पंखा [चला दो|चालू करो]", "c"),
        ("turn off the fan", "पंखा बंद कर दो", "c"),
        ("turn on the AC", "एसी [चालू करो|चला दो|ऑन करो]", "c"),
        ("set the AC to {DEG} degrees", "एसी {DEG} डिग्री पर [कर दो|सेट करो]", "c")]),
    "call": (12, [
        ("call {CONTACT}", "{CONTACT} को " + CALL, "c"),
        ("please call {CONTACT}", "[ज़रा|प्लीज़] {CONTACT} को " + CALL, "c"),
        ("call {CONTACT} on speaker", "{CONTACT} को स्पीकर पर फ़ोन करो", "c"),
        ("make a video call to {CONTACT}", "{CONTACT} को वीडियो कॉल [करो|लगाओ]", "c"),
        ("call {CONTACT} on WhatsApp", "{CONTACT} को व्हाट्सऐप पर कॉल [करो|लगाओ]", "c"),
        ("redial the last number", "आख़िरी नंबर [फिर से|दोबारा] मिलाओ", "c"),
        ("who called me", "मुझे किसने फ़ोन किया था", "q"),
        ("show my missed calls", "मेरी मिस्ड कॉल दिखाओ", "c"),
        ("end the call", "कॉल काट दो", "c")]),
    "message": (8, [
        ("send a message to {CONTACT} saying {MSG}", "{CONTACT} को मैसेज [भेजो|भेज दो] कि {MSG}", "c"),
        ("text {CONTACT} that {MSG}", "{CONTACT} को मैसेज करो कि {MSG}", "c"),
        ("send {CONTACT} a WhatsApp message saying {MSG}", "{CONTACT} को व्हाट्सऐप पर मैसेज भेजो कि {MSG}", "c"),
        ("tell {CONTACT} that {TELL}", "{CONTACT} को बता दो कि {TELL}", "c"),
        ("tell {CONTACT} that I will be home by {TIME}", "{CONTACT} को बता दो कि मैं {TIME} तक घर आ जाऊँगा", "c"),
        ("read my new messages", "मेरे नए मैसेज [पढ़कर सुनाओ|पढ़ो]", "c"),
        ("read the last message from {CONTACT}", "{CONTACT} का आख़िरी मैसेज पढ़कर सुनाओ", "c"),
        ("do I have any new messages", "क्या कोई नया मैसेज आया है", "q"),
        ("did {CONTACT} send me a message", "क्या {CONTACT} ने मुझे मैसेज भेजा है", "q")]),
    "reminder": (13, [
        ("remind me to {TASK} at {TIME}", "मुझे {TIME} {TASK} की " + REMIND, "c"),
        ("remind me at {TIME} to {TASK}", "{TIME} मुझे {TASK} की याद दिला देना", "c"),
        ("remind me to {TASK} {DAYW} at {TIME}", "{DAYW} {TIME} मुझे {TASK} की " + REMIND, "c"),
        ("remind me in {DUR} to {TASK}", "{DUR} बाद मुझे {TASK} की " + REMIND, "c"),
        ("set a reminder to {TASK} {DAYW}", "{DAYW} {TASK} का रिमाइंडर [लगाओ|लगा दो|सेट करो]", "c"),
        ("don't let me forget to {TASK} tomorrow", "कल मुझे {TASK} की याद ज़रूर दिलाना", "c"),
        ("what are my reminders for today", "आज के मेरे रिमाइंडर क्या हैं", "q"),
        ("what are my reminders for tomorrow", "कल के मेरे रिमाइंडर क्या हैं", "q"),
        ("delete all my reminders", "मेरे सारे रिमाइंडर हटा दो", "c")]),
    "misc": (3, [
        ("what time is it", "[अभी कितने बजे हैं|टाइम क्या हुआ है|अभी क्या टाइम हो रहा है]", "q"),
        ("what is today's date", "आज [कौन सी|क्या] तारीख़ है", "q"),
        ("what day is it today", "आज कौन सा दिन है", "q"),
        ("tell me a joke", "[कोई चुटकुला सुनाओ|एक जोक सुनाओ]", "c")]),
}

# ----------------------------------------------------------------------------- general templates
GENERAL = [
    # everyday conversation
    ("how are you doing today", "आज आप कैसे हैं"), ("I am fine thank you", "मैं ठीक हूँ धन्यवाद"),
    ("what is your name", "आपका नाम क्या है"), ("my name is {NAME}", "मेरा नाम {NAME} है"),
    ("nice to meet you", "आपसे मिलकर अच्छा लगा"), ("where do you live", "आप कहाँ रहते हैं"),
    ("I live in {CITY}", "मैं {CITY} में रहता हूँ"), ("I was born in {CITY}", "मेरा जन्म {CITY} में हुआ था"),
    ("{NAME} lives in {CITY} with {g:his|her} parents", "{NAME} अपने माता-पिता के साथ {CITY} में {g:रहता|रहती} है"),
    ("{NAME} works in a bank in {CITY}", "{NAME} {CITY} के एक बैंक में काम {g:करता|करती} है"),
    ("{NAME} will go to {CITY} on {DAY}", "{NAME} {DAY} को {CITY} {g:जाएगा|जाएगी}"),
    ("{NAME} is coming home from {CITY} tomorrow", "{NAME} कल {CITY} से घर आ {g:रहा|रही} है"),
    ("{NAME} is very tired today", "{NAME} आज बहुत {g:थका हुआ|थकी हुई} है"),
    ("{NAME} is not feeling well today", "आज {NAME} की तबीयत ठीक नहीं है"),
    ("I will meet {NAME} near the {PLACE}", "मैं {NAME} से {PLACE} के पास मिलूँगा"),
    ("{NAME} is waiting for you at the station", "{NAME} स्टेशन पर तुम्हारा इंतज़ार कर {g:रहा|रही} है"),
    ("please call me when you reach {CITY}", "{CITY} पहुँचकर मुझे फ़ोन करना"),
    ("I will call you after {DUR}", "मैं तुम्हें {DUR} बाद फ़ोन करूँगा"),
    ("{NAME} called me {WHENP}", "{NAME} ने मुझे {WHENP} फ़ोन किया था"),
    ("I sent {NAME} a message {WHENP}", "मैंने {WHENP} {NAME} को मैसेज भेजा था"),
    ("I forgot to reply to {NAME}'s message", "मैं {NAME} के मैसेज का जवाब देना भूल गया"),
    ("did you get my message", "क्या तुम्हें मेरा मैसेज मिला"),
    ("my phone battery is almost dead", "मेरे फ़ोन की बैटरी लगभग ख़त्म हो गई है"),
    ("can you speak a little slowly", "क्या आप थोड़ा धीरे बोल सकते हैं"),
    ("I did not understand this word", "मुझे यह शब्द समझ नहीं आया"), ("sorry I am late", "माफ़ कीजिए मुझे देर हो गई"),
    ("let's have tea together", "चलो साथ में चाय पीते हैं"),
    ("what are you doing this weekend", "तुम इस वीकेंड क्या कर रहे हो"),
    ("congratulations on your new job", "नई नौकरी के लिए बधाई हो"),
    ("thank you very much for your help", "आपकी मदद के लिए बहुत धन्यवाद"),
    ("I am very happy today", "मैं आज बहुत ख़ुश हूँ"), ("it is getting late now", "अब देर हो रही है"),
    ("see you tomorrow morning", "कल सुबह मिलते हैं"), ("let's meet on {DAY} evening", "{DAY} शाम को मिलते हैं"),
    ("I am free on {DAY}", "मैं {DAY} को ख़ाली हूँ"), ("{NAME}'s wedding is on {DAY}", "{NAME} की शादी {DAY} को है"),
    ("{NAME}'s birthday is in {MONTH}", "{NAME} का जन्मदिन {MONTH} में है"),
    ("the alarm clock did not ring this morning", "आज सुबह अलार्म घड़ी नहीं बजी"),
    ("the music next door is too loud", "पड़ोस में गाना बहुत तेज़ बज रहा है"),
    ("turn off the lights before you sleep", "सोने से पहले लाइट बंद कर देना"),
    ("I always forget where I keep my keys", "मैं हमेशा भूल जाता हूँ कि चाबी कहाँ रखी है"),
    # times, durations
    ("I usually wake up at {TIME}", "मैं आमतौर पर {TIME} उठता हूँ"),
    ("the train to {CITY} leaves at {TIME}", "{CITY} जाने वाली ट्रेन {TIME} छूटती है"),
    ("the flight to {CITY} is at {TIME}", "{CITY} की फ़्लाइट {TIME} है"),
    ("the bus from {CITY} arrives at {TIME}", "{CITY} से आने वाली बस {TIME} पहुँचती है"),
    ("the shop opens at {TIME}", "दुकान {TIME} खुलती है"), ("the bank closes at {TIME}", "बैंक {TIME} बंद होता है"),
    ("my class starts at {TIME}", "मेरी क्लास {TIME} शुरू होती है"),
    ("the meeting is on {DAY} at {TIME}", "मीटिंग {DAY} को {TIME} है"),
    ("the doctor will see you at {TIME}", "डॉक्टर आपको {TIME} देखेंगे"),
    ("the school bus comes at {TIME}", "स्कूल बस {TIME} आती है"),
    ("the movie starts at {TIME}", "फ़िल्म {TIME} शुरू होगी"),
    ("{NAME} goes for a walk at {TIME} every day", "{NAME} रोज़ {TIME} टहलने {g:जाता|जाती} है"),
    ("{NAME} takes {g:his|her} medicine at {TIME}", "{NAME} {TIME} दवाई {g:लेता|लेती} है"),
    ("{NAME} will reach {CITY} on {DAY} at {TIME}", "{NAME} {DAY} को {TIME} {CITY} {g:पहुँचेगा|पहुँचेगी}"),
    ("I will come back after {DUR}", "मैं {DUR} बाद वापस आऊँगा"),
    ("please wait for {DUR}", "कृपया {DUR} तक इंतज़ार करें"), ("boil the rice for {DUR}", "चावल को {DUR} तक उबालें"),
    ("cook the dal on low heat for {DUR}", "दाल को धीमी आँच पर {DUR} तक पकाएँ"),
    ("bake the cake for {DUR}", "केक को {DUR} तक बेक करें"),
    ("the train is running {DUR} late", "ट्रेन {DUR} देरी से चल रही है"),
    ("the meeting ended after {DUR}", "मीटिंग {DUR} बाद ख़त्म हुई"),
    ("we waited at the station for {DUR}", "हमने स्टेशन पर {DUR} तक इंतज़ार किया"),
    ("{NAME} walks for {DUR} every morning", "{NAME} हर सुबह {DUR} तक {g:टहलता|टहलती} है"),
    ("I studied for {DUR} yesterday", "मैंने कल {DUR} तक पढ़ाई की"),
    # travel
    ("how far is {CITY} from here", "यहाँ से {CITY} कितनी दूर है"),
    ("I want to book a ticket to {CITY}", "मुझे {CITY} का टिकट बुक करना है"),
    ("is there a direct train from {CITY} to {CITY2}", "क्या {CITY} से {CITY2} के लिए सीधी ट्रेन है"),
    ("the bus from {CITY} to {CITY2} takes {DUR}", "{CITY} से {CITY2} तक बस से जाने में {DUR} का समय लगता है"),
    ("we are going to {CITY} for the holidays", "हम छुट्टियों में {CITY} जा रहे हैं"),
    ("the road to {CITY} is closed today", "आज {CITY} जाने वाली सड़क बंद है"),
    ("{CITY} is famous for its food", "{CITY} अपने खाने के लिए मशहूर है"),
    ("the hotel in {CITY} was very clean", "{CITY} का होटल बहुत साफ़ था"),
    ("how much is the taxi fare to the {PLACE}", "{PLACE} तक टैक्सी का किराया कितना है"),
    ("please take me to the {PLACE}", "कृपया मुझे {PLACE} ले चलिए"),
    ("where is the nearest {PLACE}", "सबसे नज़दीकी {PLACE} कहाँ है"),
    ("the {PLACE} is closed on {DAY}", "{PLACE} {DAY} को बंद {g:रहता|रहती} है"),
    ("the {PLACE} is near my house", "{PLACE} मेरे घर के पास है"),
    ("turn left after the {PLACE}", "{PLACE} के बाद बाएँ मुड़ें"),
    ("I am standing in front of the {PLACE}", "मैं {PLACE} के सामने खड़ा हूँ"),
    ("our flight was delayed by {DUR}", "हमारी फ़्लाइट {DUR} देरी से चली"),
    ("I lost my ticket at the station", "स्टेशन पर मेरा टिकट खो गया"),
    ("the airport is very far from the city", "हवाई अड्डा शहर से बहुत दूर है"),
    ("we reached {CITY} late at night", "हम देर रात {CITY} पहुँचे"),
    # food
    ("I would like a cup of {DRINK}", "मुझे एक कप {DRINK} चाहिए"),
    ("I need {QTY} of {VEG}", "मुझे {QTY} {VEG} चाहिए"),
    ("what is the price of {VEG} today", "आज {VEG} का भाव क्या है"),
    ("{FOOD} is my favourite food", "{FOOD} मेरा पसंदीदा खाना है"),
    ("mother made {FOOD} for dinner", "माँ ने रात के खाने में {FOOD} {g:बनाया|बनाई}"),
    ("this {FOOD} is very tasty", "यह {FOOD} बहुत स्वादिष्ट है"),
    ("let's order {FOOD} tonight", "चलो आज रात {FOOD} मंगवाते हैं"),
    ("how do you make {FOOD} at home", "घर पर {FOOD} कैसे बनाते हैं"),
    ("the restaurant near the station serves good {FOOD}",
     "स्टेशन के पास वाले रेस्टोरेंट में {g:अच्छा|अच्छी} {FOOD} {g:मिलता|मिलती} है"),
    ("add a little salt to the dal", "दाल में थोड़ा नमक डालो"), ("the tea is too hot", "चाय बहुत गरम है"),
    ("do not eat too much sugar", "बहुत ज़्यादा चीनी मत खाओ"), ("I am a vegetarian", "मैं शाकाहारी हूँ"),
    ("we usually eat at {TIME}", "हम आमतौर पर {TIME} खाना खाते हैं"),
    # family
    ("{REL} lives in {CITY}", "{REL} {CITY} में {g:रहता|रहती} है"),
    ("{REL} is {AGE} years old", "{REL} {AGE} साल {g:का|की} है"),
    ("{REL} goes to school every day", "{REL} रोज़ स्कूल {g:जाता|जाती} है"),
    ("{REL} is coming to {CITY} on {DAY}", "{REL} {DAY} को {CITY} आ {g:रहा|रही} है"),
    ("{REL} is {PROF} in {CITY}", "{REL} {CITY} में {PROF} है"),
    ("{NAME} wants to become {PROF}", "{NAME} {PROF} बनना {g:चाहता|चाहती} है"),
    ("{NAME} loves the songs of {ARTIST}", "{NAME} को {ARTIST} के गाने बहुत पसंद हैं"),
    ("we visit our grandparents every summer", "हम हर गर्मी में अपने दादा-दादी से मिलने जाते हैं"),
    ("my grandmother tells us stories every night", "मेरी दादी हमें हर रात कहानियाँ सुनाती हैं"),
    ("my father reads the newspaper every morning", "मेरे पिताजी हर सुबह अख़बार पढ़ते हैं"),
    ("my mother is cooking in the kitchen", "मेरी माँ रसोई में खाना बना रही हैं"),
    ("the children are playing in the park", "बच्चे पार्क में खेल रहे हैं"),
    ("my sister got married last year", "मेरी बहन की शादी पिछले साल हुई"),
    ("we have {SMALL} children", "हमारे {SMALL} बच्चे हैं"),
    # shopping
    ("how much does this {ITEM} cost", "यह {ITEM} कितने {g:का|की} है"),
    ("do you have this {ITEM} in another colour", "क्या यह {ITEM} किसी दूसरे रंग में है"),
    ("I bought a new {ITEM} yesterday", "मैंने कल {g:एक नया|एक नई} {ITEM} {g:ख़रीदा|ख़रीदी}"),
    ("this {ITEM} is too expensive", "यह {ITEM} बहुत {g:महँगा|महँगी} है"),
    ("I want to return this {ITEM}", "मैं यह {ITEM} वापस करना चाहता हूँ"),
    ("the {ITEM} was delivered on {DAY}", "{ITEM} {DAY} को डिलीवर {g:हुआ|हुई}"),
    ("can I pay by card", "क्या मैं कार्ड से भुगतान कर सकता हूँ"),
    ("please give me a receipt", "कृपया मुझे रसीद दीजिए"),
    ("my order has not arrived yet", "मेरा ऑर्डर अभी तक नहीं आया"),
    ("the shop gives a discount on {DAY}", "दुकान {DAY} को छूट देती है"),
    # health
    ("I have had a headache since morning", "सुबह से मेरे सिर में दर्द है"),
    ("{NAME} has had a fever since {DAY}", "{NAME} को {DAY} से बुख़ार है"),
    ("take this medicine {FREQ}", "यह दवाई {FREQ} लें"),
    ("drink plenty of water in summer", "गर्मी में ख़ूब पानी पिएँ"),
    ("the doctor told me to rest for {SMALL} days", "डॉक्टर ने मुझे {SMALL} दिन आराम करने को कहा"),
    ("you should exercise every day", "आपको रोज़ व्यायाम करना चाहिए"),
    ("my knee hurts when I climb stairs", "सीढ़ियाँ चढ़ते समय मेरे घुटने में दर्द होता है"),
    ("the hospital is open all night", "अस्पताल पूरी रात खुला रहता है"),
    ("I need to see a dentist", "मुझे दाँतों के डॉक्टर को दिखाना है"),
    ("wash your hands before eating", "खाने से पहले हाथ धोएँ"),
    ("{NAME} went to the hospital for a checkup", "{NAME} जाँच के लिए अस्पताल {g:गया|गई}"),
    ("sleep at least seven hours every night", "हर रात कम से कम सात घंटे सोएँ"),
    # school
    ("the exams start on {DAY}", "परीक्षाएँ {DAY} से शुरू होंगी"),
    ("{NAME} got good marks in {SUBJ}", "{NAME} को {SUBJ} में अच्छे अंक मिले"),
    ("our {SUBJ} teacher is very strict", "हमारे {SUBJ} के अध्यापक बहुत सख़्त हैं"),
    ("I have a {SUBJ} test tomorrow", "कल मेरा {SUBJ} का टेस्ट है"),
    ("{NAME} is studying {SUBJ} in {CITY}", "{NAME} {CITY} में {SUBJ} पढ़ {g:रहा|रही} है"),
    ("the school will remain closed on {DAY}", "स्कूल {DAY} को बंद रहेगा"),
    ("please open your books to page {PAGE}", "कृपया अपनी किताबें पेज {PAGE} पर खोलें"),
    ("submit your homework by {DAY}", "अपना होमवर्क {DAY} तक जमा करें"),
    # weather talk
    ("it was very hot in {CITY} yesterday", "कल {CITY} में बहुत गर्मी थी"),
    ("it rained heavily in {CITY} last night", "कल रात {CITY} में तेज़ बारिश हुई"),
    ("winters in {CITY} are very cold", "{CITY} में सर्दियाँ बहुत ठंडी होती हैं"),
    ("the monsoon reached {CITY} early this year", "इस साल मानसून {CITY} में जल्दी पहुँचा"),
    ("there was thick fog in {CITY} this morning", "आज सुबह {CITY} में घना कोहरा था"),
    ("the weather in {CITY} is pleasant in {MONTH}", "{MONTH} में {CITY} का मौसम सुहाना रहता है"),
    ("it is very humid in {CITY} in {MONTH}", "{MONTH} में {CITY} में बहुत उमस होती है"),
    ("I love the weather in {MONTH}", "मुझे {MONTH} का मौसम बहुत पसंद है"),
    ("the weather is pleasant today", "आज मौसम सुहाना है"),
    ("carry an umbrella because it may rain", "छाता ले जाओ क्योंकि बारिश हो सकती है"),
    # computer and UI strings
    ("{UIACT} this {UIOBJ}", "इस {UIOBJ} को {UIACT}"),
    ("{UIACT} the selected {UIOBJ}", "{g:चुने गए|चुनी गई} {UIOBJ} को {UIACT}"),
    ("do you want to save changes to this {UIOBJ}", "क्या आप इस {UIOBJ} में किए गए बदलाव सहेजना चाहते हैं"),
    ("the {UIOBJ} could not be opened", "{UIOBJ} {g:खोला नहीं जा सका|खोली नहीं जा सकी}"),
    ("are you sure you want to delete this {UIOBJ}", "क्या आप वाकई इस {UIOBJ} को हटाना चाहते हैं"),
    ("save changes before closing", "बंद करने से पहले बदलाव सहेजें"),
    ("open the settings menu", "सेटिंग्स मेन्यू खोलें"), ("check for new updates", "नए अपडेट की जाँच करें"),
    ("your password has been changed", "आपका पासवर्ड बदल दिया गया है"),
    ("enter your email address", "अपना ईमेल पता दर्ज करें"),
    ("no internet connection is available", "इंटरनेट कनेक्शन उपलब्ध नहीं है"),
    ("restart your computer now", "अपना कंप्यूटर अभी रीस्टार्ट करें"),
    ("the download is complete", "डाउनलोड पूरा हो गया है"),
    ("click here to continue", "जारी रखने के लिए यहाँ क्लिक करें"),
    ("sign in to your account", "अपने खाते में साइन इन करें"),
    ("the file is too large to upload", "फ़ाइल अपलोड करने के लिए बहुत बड़ी है"),
    ("select a language from the list", "सूची से एक भाषा चुनें"),
    ("your changes have been saved", "आपके बदलाव सहेज लिए गए हैं"),
    ("please try again later", "कृपया बाद में फिर से प्रयास करें"), ("this field is required", "यह फ़ील्ड आवश्यक है"),
    ("the printer is out of paper", "प्रिंटर में काग़ज़ ख़त्म हो गया है"),
    ("a new version of the app is available", "ऐप का नया संस्करण उपलब्ध है"),
    ("undo the last change", "पिछला बदलाव पूर्ववत करें"),
    ("allow the app to use your location", "ऐप को अपनी लोकेशन इस्तेमाल करने की अनुमति दें"),
    ("the update will be installed at {TIME}", "अपडेट {TIME} इंस्टॉल होगा"),
    ("the backup will run every {DAY}", "बैकअप हर {DAY} को चलेगा"),
    # news
    ("the prime minister will visit {CITY} on {DAY}", "प्रधानमंत्री {DAY} को {CITY} का दौरा करेंगे"),
    ("heavy rain is expected in {CITY} this week", "इस हफ़्ते {CITY} में भारी बारिश की संभावना है"),
    ("a new metro line will open in {CITY} next month", "{CITY} में अगले महीने नई मेट्रो लाइन शुरू होगी"),
    ("India won the match by {RUNS} runs", "भारत ने मैच {RUNS} रन से जीत लिया"),
    ("India won the match by {SMALL} wickets", "भारत ने मैच {SMALL} विकेट से जीत लिया"),
    ("schools in {CITY} will remain closed on {DAY}", "{CITY} के स्कूल {DAY} को बंद रहेंगे"),
    ("petrol prices went up again on {DAY}", "{DAY} को पेट्रोल के दाम फिर बढ़ गए"),
    ("a fire broke out in a market in {CITY}", "{CITY} के एक बाज़ार में आग लग गई"),
    ("the new airport in {CITY} will open in {MONTH}", "{CITY} का नया हवाई अड्डा {MONTH} में खुलेगा"),
    ("traffic was stuck in {CITY} for {DUR}", "{CITY} में {DUR} तक जाम लगा रहा"),
    ("the film festival in {CITY} begins on {DAY}", "{CITY} में फ़िल्म महोत्सव {DAY} से शुरू होगा"),
    ("{ARTIST} will perform live in {CITY} on {DAY}",
     "{ARTIST} {DAY} को {CITY} में लाइव {g:परफ़ॉर्म करेंगे|परफ़ॉर्म करेंगी}"),
    ("{ARTIST}'s new song was released on {DAY}", "{ARTIST} का नया गाना {DAY} को रिलीज़ हुआ"),
    ("I like the songs of {ARTIST} very much", "मुझे {ARTIST} के गाने बहुत पसंद हैं"),
    ("{SONG} is my favourite song", "{SONG} मेरा पसंदीदा गाना है"),
    ("{MOVIE} is my favourite film", "{MOVIE} मेरी पसंदीदा फ़िल्म है"),
    ("the election results will be announced on {DAY}", "चुनाव के नतीजे {DAY} को घोषित किए जाएँगे"),
    ("the police arrested {SMALL} people in {CITY}", "पुलिस ने {CITY} में {SMALL} लोगों को गिरफ़्तार किया"),
    ("the temperature in {CITY} is expected to drop", "{CITY} में तापमान गिरने की संभावना है"),
    ("a new hospital was opened in {CITY} on {DAY}", "{DAY} को {CITY} में एक नए अस्पताल का उद्घाटन हुआ"),
    ("flights from {CITY} were delayed due to fog", "कोहरे के कारण {CITY} से उड़ानें देरी से चलीं"),
    ("the temperature in {CITY} crossed forty five degrees", "{CITY} में तापमान पैंतालीस डिग्री के पार पहुँच गया"),
    ("the state government announced a new scheme for farmers", "राज्य सरकार ने किसानों के लिए नई योजना की घोषणा की"),
]

# ----------------------------------------------------------------------------- machinery
SLOT_RE = re.compile(r"\{([A-Z]+)(\d?)\}")
GENDER_RE = re.compile(r"\{g:([^|}]*)\|([^}]*)\}")
VARIANT_RE = re.compile(r"\[([^\]]*)\]")


def fill(rng: random.Random, en_t: str, hi_t: str) -> tuple[str, str]:
    vals: dict[str, tuple] = {}
    gender = "m"
    for m in SLOT_RE.finditer(hi_t + " " + en_t):  # Hindi order decides which slot sets gender
        key = m.group(0)
        if key in vals:
            continue
        src = LEX[m.group(1)]
        taken = [v for k, v in vals.items() if SLOT_RE.fullmatch(k).group(1) == m.group(1)]
        for _ in range(50):
            v = src(rng) if callable(src) else rng.choice(src)
            if v not in taken:
                break
        if len(v) > 2 and not any(len(x) > 2 for x in vals.values()):
            gender = v[2]
        vals[key] = v

    def render(t: str, side: int) -> str:
        t = SLOT_RE.sub(lambda m: vals[m.group(0)][side], t)
        t = GENDER_RE.sub(lambda m: m.group(1) if gender == "m" else m.group(2), t)
        t = VARIANT_RE.sub(lambda m: rng.choice(m.group(1).split("|")), t)
        return " ".join(t.split())

    return render(en_t, 0), unicodedata.normalize("NFC", render(hi_t, 1))


def key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).rstrip("।?").lower().split())


def ok_len(en: str, hi: str, en_min: int) -> bool:
    return en_min <= len(en.split()) <= 15 and 3 <= len(hi.split()) <= 15


def gen_indomain(rng: random.Random, n: int, seen: set) -> list[tuple[str, str, str]]:
    intents = list(INDOMAIN)
    weights = [INDOMAIN[i][0] for i in intents]
    out = []
    for _ in range(200 * n):
        if len(out) == n:
            return out
        en_t, hi_t, kind = rng.choice(INDOMAIN[rng.choices(intents, weights)[0]][1])
        en, hi = fill(rng, en_t, hi_t)
        if key(hi) in seen or not ok_len(en, hi, 2):  # "call Mom" is a fine two-word request
            continue
        seen.add(key(hi))
        out.append((en, hi, kind))
    raise SystemExit(f"in-domain templates exhausted after {len(out)} of {n} sentences")


def gen_general(rng: random.Random, n: int, seen: set, seen_en: set) -> list[tuple[str, str]]:
    out = []
    for _ in range(200 * n):
        if len(out) == n:
            return out
        en, hi = fill(rng, *rng.choice(GENERAL))
        if key(hi) in seen or key(en) in seen_en or not ok_len(en, hi, 3):
            continue
        seen.add(key(hi))
        seen_en.add(key(en))
        out.append((en, hi))
    raise SystemExit(f"general templates exhausted after {len(out)} of {n} sentences")


def punctuate(rng: random.Random, hi: str, kind: str) -> str:
    """A few spoken-request lines end in a danda or a question mark, as typed text would."""
    if kind == "q" and rng.random() < 0.08:
        return hi + "?"
    if kind == "c" and rng.random() < 0.05:
        return hi + "।"
    return hi


def write(path: Path, lines: list[str]) -> None:
    assert all(line and "\n" not in line for line in lines), path
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(line + "\n" for line in lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=Path("corpora/toy"))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    n_like = round(N_GENERAL * LIKE_SHARE)

    seen: set[str] = set()
    pool = gen_indomain(rng, N_TEST + N_DEV + N_SEED + N_SOURCE + n_like + 700, seen)
    rng.shuffle(pool)  # one shuffled pool -> every split has the same domain distribution
    n_mono = N_TEST + N_DEV + N_SEED  # Hindi-only sets: taken straight from the shuffled pool
    mono = [punctuate(rng, hi, kind) for _, hi, kind in pool[:n_mono]]
    test, dev, seed = mono[:N_TEST], mono[N_TEST:N_TEST + N_DEV], mono[N_TEST + N_DEV:]
    seen_en: set[str] = set()
    source, like = [], []  # bitext: the English side must be unique too, so skip repeated English
    for en, hi, _ in pool[n_mono:]:
        if key(en) in seen_en or (len(source) == N_SOURCE and len(en.split()) < 3):
            continue  # (general.* keeps to 3-15 words)
        seen_en.add(key(en))
        (source if len(source) < N_SOURCE else like).append((en, hi))
        if len(like) == n_like:
            break
    if len(like) < n_like:
        raise SystemExit("in-domain pool too small; raise the margin")

    general = gen_general(rng, N_GENERAL - n_like, seen, seen_en) + like
    rng.shuffle(general)

    args.out.mkdir(parents=True, exist_ok=True)
    write(args.out / "general.en", [e for e, _ in general])
    write(args.out / "general.hi", [h for _, h in general])
    write(args.out / "seed.hi", seed)
    write(args.out / "source.en", [e for e, _ in source])
    write(args.out / "source.ref.hi", [h for _, h in source])
    write(args.out / "dev.hi", dev)
    write(args.out / "test.hi", test)
    print(f"wrote {args.out}: general {len(general)} pairs ({n_like} in-domain-like), seed {len(seed)}, "
          f"source {len(source)} pairs, dev {len(dev)}, test {len(test)}")


if __name__ == "__main__":
    main()
