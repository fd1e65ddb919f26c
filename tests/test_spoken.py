"""Spoken form (lmboot.text.spoken, issue 19): numbers, times, dates, ordinals, currencies and
percentages written out as words, identically in LM text, test text and through every path."""
from __future__ import annotations

import json
import logging
import random
import re
import subprocess
import sys

import pytest

from conftest import ROOT, TOY
from lmboot.errors import LmbootError
from lmboot.text import spoken
from lmboot.text.normalize import Normalizer
from lmboot.text.spoken import resolve_lang, spoken_form


@pytest.mark.parametrize("lang, raw, want", [
    # German: clock times (with and without "Uhr"), dates, ordinals by case, currency, percent
    ("de", "wecke mich um 7:30", "wecke mich um sieben Uhr dreißig"),
    ("de", "Stelle den Wecker auf 8:00 Uhr ein", "Stelle den Wecker auf acht Uhr ein"),
    ("de", "Es ist 9.15 Uhr.", "Es ist neun Uhr fünfzehn."),
    ("de", "um 1 Uhr", "um ein Uhr"),
    ("de", "erinnere mich am 21. August um 15 Uhr", "erinnere mich am einundzwanzigsten August um fünfzehn Uhr"),
    ("de", "am 3.5.2024", "am dritten Mai zweitausendvierundzwanzig"),
    ("de", "Montag, 3. Mai", "Montag, dritter Mai"),
    ("de", "der 2. Platz", "der zweite Platz"),
    ("de", "Ich komme um 10.", "Ich komme um zehn."),
    ("de", "Hier sind 10,00 $.", "Hier sind zehn Dollar."),
    ("de", "1,50 €", "ein Euro fünfzig Cent"),
    ("de", "Ich bin mir zu 99 % sicher.", "Ich bin mir zu neunundneunzig Prozent sicher."),
    ("de", "50%", "fünfzig Prozent"),
    ("de", "1.000.000 Menschen im Jahr 1990", "eine Million Menschen im Jahr neunzehnhundertneunzig"),
    ("de", "-3 °C", "minus drei Grad Celsius"),
    # English
    ("en", "£5", "five pounds"),
    ("en", "$10.50 please", "ten dollars fifty cents please"),
    ("en", "the 2nd alarm", "the second alarm"),
    ("en", "on May 3rd", "on May third"),
    ("en", "May 3, 2024", "May third twenty twenty-four"),
    ("en", "3 May 2024", "third of May twenty twenty-four"),
    ("en", "wake me at 7:30", "wake me at seven thirty"),
    ("en", "at 7:00 and 6am", "at seven o'clock and six am"),
    ("en", "50% off", "fifty percent off"),
    ("en", "in the 1990s", "in the nineteen nineties"),
    ("en", "R&D, C++ and 2-14 days", "R and D, C plus plus and two to fourteen days"),
    ("en", "1,000,000 and 3.14", "one million and three point one four"),
    # Hindi: colloquial clock times, day-month dates, Indian grouping, ordinals, Devanagari digits
    ("hi", "मुझे 7:30 बजे जगाओ", "मुझे साढ़े सात बजे जगाओ"),
    ("hi", "शाम 4:15 बजे", "शाम सवा चार बजे"),
    ("hi", "7:10 बजे", "सात बजकर दस मिनट"),
    ("hi", "₹500 का 50% दो", "पाँच सौ रुपये का पचास प्रतिशत दो"),
    ("hi", "3.5.2024 को", "तीन मई दो हज़ार चौबीस को"),
    ("hi", "1890 के दशक में", "अट्ठारह सौ नब्बे के दशक में"),
    ("hi", "1,00,000 लोग", "एक लाख लोग"),
    ("hi", "5वाँ और 2वीं", "पाँचवाँ और दूसरी"),
    ("hi", "वॉल्यूम ७५ पर", "वॉल्यूम पचहत्तर पर"),
])
def test_spoken_form_examples(lang, raw, want):
    assert spoken_form(raw, lang) == want


@pytest.mark.parametrize("code, want", [("de", "de"), ("deu", "de"), ("ger", "de"), ("deu_Latn", "de"),
                                        ("en-GB", "en"), ("eng_Latn", "en"), ("hin_Deva", "hi"), ("HI", "hi")])
def test_language_codes_iso1_iso3_and_nllb(code, want):
    assert resolve_lang(code) == want
    assert spoken_form("7:30", code) == spoken_form("7:30", want)


@pytest.mark.parametrize("bad", ["", "d", "deutsch!", "de de", "12", None])
def test_malformed_language_code_is_an_error(bad):
    with pytest.raises(LmbootError, match="language code"):
        resolve_lang(bad)


def test_language_without_grammar_keeps_digits_and_warns_once(monkeypatch, caplog):
    monkeypatch.setattr(spoken, "_loaded", {})
    with caplog.at_level(logging.WARNING, logger="lmboot"):
        assert spoken_form("il est 7:30, 50 %", "fra_Latn") == "il est 7:30, 50 %"
        assert spoken_form("8 €", "fr") == "8 €"
        assert Normalizer(spoken_form=True, lang="fra")("À 7:30 !") == "à 7 30"
    warnings = [r.getMessage() for r in caplog.records if "spoken form" in r.getMessage()]
    assert warnings == ["spoken form: no number grammar for 'fr'; digits kept"]


def test_line_without_number_takes_the_fast_path(monkeypatch):
    """No digit and no handled symbol: one regex search, the grammar is never consulted."""
    def boom(lang):
        raise AssertionError("grammar consulted for a line without a number")

    monkeypatch.setattr(spoken, "grammar", boom)
    line = "Stelle den Wecker auf halb acht, bitte!"
    assert spoken_form(line, "de") is line


# Lines shaped like the benchmark corpora: codes, ranges, lists, stray symbols, odd spacing.
MESSY = ["Gib 0 Sterne an Halo: Ghosts of Onyx", "Wecker für 615 Uhr früh", "sag mir die 3-Tages Wettervorhersage",
         "HCoV-229E und OC43, COVID-19 (1-7) ~10-4", "1,2,3 & 4+5=9", "%.1f {0} #1 A320 500ml 256GB 3D",
         "0800 123 456 and 12345678901234567", "१२:४५ बजे ₹ 5 $", "Tom wählte die 112.", "Version 1.5.2 am 1.5.",
         "25:99 7:75 99/99/2024 32.13.2020", "-5 − −3 °F ° % € £ ¥", "5 million $ and $1.5 billion", "2024-05-03 3rd 4th"]


@pytest.mark.parametrize("lang", ["en", "de", "hi"])
def test_every_digit_and_symbol_is_written_out_and_the_result_is_a_fixed_point(lang):
    for line in MESSY:
        said = spoken_form(line, lang)
        assert not re.search(r"[\d%&+°$€£₹¥]", said), (line, said)
        assert spoken_form(said, lang) == said


def test_deterministic_across_processes():
    code = "from lmboot.text.spoken import spoken_form as f; print(f('am 3.5. um 7:30 für 5 €', 'de'))"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout
            for _ in range(2)}
    assert outs == {"am dritten Mai um sieben Uhr dreißig für fünf Euro\n"}


# --- the normaliser ---------------------------------------------------------------------
def test_normalizer_expands_before_punctuation_removal_and_records_it():
    n = Normalizer(spoken_form=True, lang="deu_Latn")
    assert n("Wecke mich um 7:30!") == "wecke mich um sieben uhr dreißig"
    assert Normalizer()("Wecke mich um 7:30!") == "wecke mich um 7 30"
    assert n.signature == "nfc+lc+nopunct+digits-keep+spoken-de"
    assert n == Normalizer(spoken_form=True, lang="de")  # one setting, whatever the code's style
    assert Normalizer().signature == "nfc+lc+nopunct+digits-keep"
    assert Normalizer(spoken_form=True, lang="xx").signature.endswith("+spoken-xx-nogrammar")
    assert Normalizer(lang="de") == Normalizer(lang="de") and Normalizer(lang="de").signature == Normalizer().signature


def test_normalizer_spoken_form_needs_a_language():
    with pytest.raises(LmbootError, match="language"):
        Normalizer(spoken_form=True)
    with pytest.raises(LmbootError, match="language code"):
        Normalizer(spoken_form=True, lang="de de")


def test_spoken_form_and_digits_drop_compose():
    n = Normalizer(spoken_form=True, lang="fr", digits="drop")  # no grammar: the digits are then dropped
    assert n("il est 7:30") == "il est"
    assert Normalizer(spoken_form=True, lang="en", digits="drop")("at 7:30") == "at seven thirty"


@pytest.mark.parametrize("lang", ["en", "de", "hi"])
def test_batch_path_equals_scalar_path(lang):
    rng = random.Random(19)
    toy = (TOY / "test.hi").read_text(encoding="utf-8").splitlines() + (TOY / "general.en").read_text(
        encoding="utf-8").splitlines()[:300]
    pieces = MESSY + ["Wecke mich um 7:30!", "Σ ΟΔΟΣ 5 İstanbul", "e\u0301 2nd", "क़\u093c 7:15", "", "  "]
    lines = toy + pieces + [" ".join(rng.sample(pieces, 3)) for _ in range(200)]
    n = Normalizer(spoken_form=True, lang=lang)
    assert n.batch(lines) == [n(x) for x in lines]
    normed, counts = n.batch(lines, counts=True)
    assert counts == [len(x.split()) for x in normed]


# --- LM text and test text in the same form ---------------------------------------------
def _vocab(arpa) -> list[str]:
    """The words of an ARPA file's unigram section."""
    text = arpa.read_text(encoding="utf-8").split("\\1-grams:")[1].split("\\2-grams:")[0]
    return [line.split("\t")[1] for line in text.strip().splitlines()]


def test_lm_trained_on_spoken_text_knows_the_test_numbers(make_text, kenlm_ready):
    from lmboot import lm

    train = make_text("train.de", ["stelle den Wecker auf sieben Uhr dreißig", "Wecker um acht Uhr",
                                   "erinnere mich am dritten Mai", "das kostet fünf Euro", "neunundneunzig Prozent",
                                   "Wecker für zehn Uhr morgens"] * 5)
    test = make_text("test.de", ["Stelle den Wecker auf 7:30 Uhr", "erinnere mich am 3. Mai", "das kostet 5 €",
                                 "99 % Wecker für 10 Uhr morgens"])
    norm = Normalizer(spoken_form=True, lang="de")
    res = lm.train(train, train.with_suffix(".arpa"), order=3, normalizer=norm)
    vocab = _vocab(res.arpa)
    assert vocab and not [w for w in vocab if re.search(r"\d", w)]
    ev = lm.evaluate([res.arpa], test, normalizer=norm)
    assert ev.models[0].oovs == 0 and ev.models[0].tokens > 20
    assert "norm:nfc+lc+nopunct+digits-keep+spoken-de" in ev.signature
    written = lm.evaluate([res.arpa], test)  # digits kept: every number is unknown
    assert written.models[0].oovs >= 6


# --- the pipeline -----------------------------------------------------------------------
def test_config_key_default_and_validation(tmp_path):
    from lmboot.pipeline.config import DEFAULTS, load_config

    assert DEFAULTS["text"] == {"spoken_form": False}
    data = "\n".join(f'{k} = "{TOY / v}"' for k, v in (("seed", "seed.hi"), ("dev", "dev.hi"), ("test", "test.hi"),
                                                       ("source", "source.en"), ("general_src", "general.en"),
                                                       ("general_tgt", "general.hi")))
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"[data]\n{data}\n[text]\nspoken_form = true\n", encoding="utf-8")
    assert load_config(cfg)["text"]["spoken_form"] is True
    cfg.write_text(f"[data]\n{data}\n[text]\nspoken_form = \"yes\"\n", encoding="utf-8")
    with pytest.raises(LmbootError, match=r"\[text\] spoken_form must be true or false"):
        load_config(cfg)
    cfg.write_text(f"[run]\ntgt_lang = \"hin Deva\"\n[data]\n{data}\n[text]\nspoken_form = true\n", encoding="utf-8")
    with pytest.raises(LmbootError, match=r"\[run\] tgt_lang"):
        load_config(cfg)


def test_lmtext_step_writes_translations_in_spoken_form(tmp_path):
    from lmboot.pipeline import stages as S

    nbest = tmp_path / "nbest.jsonl"
    entries = [{"id": "1", "source": "wake me at seven thirty", "hyps": [
        {"text": "weck mich um 7:30 Uhr", "score": -1.0, "tokens": 5}]},
        {"id": "2", "source": "five euros", "hyps": [{"text": "5 €", "score": -0.5, "tokens": 2}]}]
    nbest.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8")
    params = {"tune": False, "nbest": [1], "trust": [1.0], "spoken_lang": "deu_Latn"}
    outs, _ = S.lmtext(tmp_path, {"nbest": nbest}, params)
    assert outs["text"].read_text(encoding="utf-8").splitlines() == ["weck mich um sieben Uhr dreißig", "fünf Euro"]


def _toy_config(tmp_path, spoken_form: bool):
    data = "\n".join(f'{k} = "{TOY / v}"' for k, v in (
        ("seed", "seed.hi"), ("dev", "dev.hi"), ("test", "test.hi"), ("source", "source.en"),
        ("source_ref", "source.ref.hi"), ("general_src", "general.en"), ("general_tgt", "general.hi")))
    cfg = tmp_path / "run.toml"
    cfg.write_text(f'[run]\ndir = "{tmp_path / "run"}"\nsrc_lang = "eng_Latn"\ntgt_lang = "hin_Deva"\n'
                   f"[data]\n{data}\n[text]\nspoken_form = {str(spoken_form).lower()}\n", encoding="utf-8")
    return cfg


def test_pipeline_baselines_in_spoken_form(tmp_path, caplog, kenlm_ready):
    """The baselines need no translator (a few seconds): every data file is copied in spoken form
    line for line, the LMs hold no digit, the report and results say which form was used."""
    from lmboot import pipeline

    res = pipeline.run(_toy_config(tmp_path, True), systems=["seed", "general"])
    run = res.run_dir
    for key, name in (("seed", "seed.hi"), ("dev", "dev.hi"), ("test", "test.hi"), ("source", "source.en"),
                      ("source_ref", "source.ref.hi"), ("general_src", "general.en"), ("general_tgt", "general.hi")):
        copy = run / "spoken" / f"{key}{TOY.joinpath(name).suffix}"
        orig = TOY.joinpath(name).read_text(encoding="utf-8").splitlines()
        said = copy.read_text(encoding="utf-8").splitlines()
        assert len(said) == len(orig), key  # line for line: the bitext stays aligned
        assert not any(re.search(r"\d", x) for x in said), key
    assert "सुबह पाँच बजे का अलार्म लगाइए" in (run / "spoken" / "test.hi").read_text(encoding="utf-8")
    for part in ("seed", "general"):
        vocab = _vocab(run / "lm-parts" / f"{part}.arpa")
        assert len(vocab) > 100 and not [w for w in vocab if re.search(r"\d", w)]
    results = json.loads((run / "results.json").read_text(encoding="utf-8"))
    assert results["text_form"] == "nfc+lc+nopunct+digits-keep+spoken-hi"
    assert "+spoken-hi" in results["ppl_signature"]
    assert "Text form: **spoken**" in res.report.read_text(encoding="utf-8")
    caplog.clear()  # the first run's records too, where an earlier test left the logger at INFO
    with caplog.at_level("INFO", logger="lmboot"):
        pipeline.run(_toy_config(tmp_path, True), systems=["seed", "general"])
    assert "spoken                       unchanged" in caplog.text and "running" not in caplog.text


def test_pipeline_without_spoken_form_has_no_text_step(tmp_path):
    from lmboot.pipeline import load_config, plan_steps as plan

    steps, _ = plan(load_config(_toy_config(tmp_path, False)), ["seed", "general", "mt"])
    assert "spoken" not in [s.name for s in steps]
    assert not any("spoken_lang" in s.params for s in steps)
    steps, _ = plan(load_config(_toy_config(tmp_path, True)), ["seed", "general", "mt"])
    assert steps[0].name == "spoken"
    inputs = [v for s in steps[1:] for v in s.inputs.values() if isinstance(v, str)]
    assert not [v for v in inputs if v.startswith(str(TOY))], "a step reads an original data file"
    assert {s.name for s in steps if s.params.get("spoken_lang") == "hin_Deva"} >= {"eval", "lmtext.all"}


# --- the command line -------------------------------------------------------------------
def _cli(*args, cwd):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("argv, needle", [
    (["lm", "eval", "t.de", "--lm", "m.arpa", "--spoken-form"], "--spoken-form needs --lang"),
    (["lm", "eval", "t.de", "--lm", "m.arpa", "--lang", "de"], "--lang only"),
    (["lm", "eval", "t.de", "--lm", "m.arpa", "--spoken-form", "--lang", "de de"], "--lang: a language code"),
    (["lm", "eval", "t.de", "--lm", "m.arpa", "--digits", "spell"], "--digits must be keep or drop"),
])
def test_cli_bad_spoken_form_options_are_one_line_exit_2(argv, needle, tmp_path, kenlm_ready):
    from lmboot import lm

    (tmp_path / "t.de").write_text("um 7:30 Uhr\n" * 5, encoding="utf-8")
    lm.train(tmp_path / "t.de", tmp_path / "m.arpa", order=2)
    p = _cli(*argv, cwd=tmp_path)
    lines = [x for x in p.stderr.splitlines() if x.strip() and not x.startswith("[lmboot]")]
    assert p.returncode == 2 and len(lines) == 1 and needle in lines[0], p.stderr
    assert "Traceback" not in p.stderr


def test_cli_spoken_form_round_trip(tmp_path, kenlm_ready):
    (tmp_path / "train.de").write_text("wecke mich um sieben Uhr dreißig\nfünf Euro bitte\n" * 5, encoding="utf-8")
    (tmp_path / "test.de").write_text("Wecke mich um 7:30!\n5 € bitte\n", encoding="utf-8")
    p = _cli("lm", "train", "train.de", "--out", "m.arpa", "--order", "2", "--spoken-form", "--lang", "deu_Latn",
             cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    p = _cli("lm", "eval", "test.de", "--lm", "m.arpa", "--spoken-form", "--lang", "deu_Latn", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "0.00%" in p.stdout and "norm:nfc+lc+nopunct+digits-keep+spoken-de" in p.stdout


def test_supported_languages_are_the_grammars():
    from lmboot.text.grammars import GRAMMARS

    assert spoken.SUPPORTED == tuple(GRAMMARS) == ("en", "de", "hi")


def test_docstring_examples_hold():
    import doctest
    import importlib

    for name in ("spoken", "grammars", "normalize"):
        mod = importlib.import_module(f"lmboot.text.{name}")
        res = doctest.testmod(mod)
        assert res.attempted > 0 and res.failed == 0, mod.__name__


def test_report_line_names_the_text_form():
    from lmboot.pipeline.report import _text_form_line

    def manifest(form, tgt="deu_Latn"):
        return {"steps": {"eval": {"metrics": {"text_form": form} if form else {}},
                          "spoken": {"metrics": {"src_lang": "eng_Latn", "tgt_lang": tgt}}}}

    assert _text_form_line(manifest(None)).startswith("Text form: written")
    assert "**spoken**" in _text_form_line(manifest("nfc+lc+nopunct+digits-keep+spoken-de"))
    assert "no number grammar" in _text_form_line(manifest("nfc+lc+nopunct+digits-keep+spoken-pa-nogrammar", "pan"))
