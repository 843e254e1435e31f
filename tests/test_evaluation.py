"""`lanterne eval`: question sets read with clear errors, each answer checked mechanically, runs
saved and compared; the whole flow on the shipped sample with the real Gemma model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lanterne.assistant.answer import Citation
from lanterne.evaluation.checks import (
    answer_language,
    check_citations,
    facts_present,
    refused,
    retrieved_sources,
)
from lanterne.evaluation.question_set import (
    ExpectedSource,
    QuestionSetError,
    load_question_set,
)
from lanterne.evaluation.results import comparison_table, load_run, save_run
from lanterne.indexer.retriever import SearchResult
from support.cli import lanterne


def _citation(n: int, path: str, text: str, page: int | None = None) -> Citation:
    result = SearchResult(
        chunk_id=n,
        path=path,
        page=page,
        line=None,
        heading="",
        snippet=text[:80],
        highlights=(),
        text=text,
        score=1.0,
        lang="fr",
    )
    return Citation(n, result)


def test_a_question_set_is_read_from_json_lines_and_csv(tmp_path: Path) -> None:
    jsonl = tmp_path / "q.jsonl"
    jsonl.write_text(
        '{"question": "Quel VPN ?", "sources": ["it/vpn.md", "guide.pdf#12"], '
        '"facts": ["WireGuard"]}\n\n'
        '{"question": "Prime de fin d\'année ?", "answerable": false}\n',
        encoding="utf-8",
    )
    first, second = load_question_set(jsonl).questions
    assert first.sources == (ExpectedSource("it/vpn.md"), ExpectedSource("guide.pdf", 12))
    assert first.facts == ("WireGuard",) and first.answerable
    assert not second.answerable and second.line == 3
    csv = tmp_path / "q.csv"
    csv.write_text(
        "question,sources,facts,answerable\n"
        'How long?,password-policy.md,"14 characters; Bitwarden",yes\n'
        "Paid leave?,,,non\n",
        encoding="utf-8-sig",  # as Excel writes it
    )
    one, two = load_question_set(csv).questions
    assert one.facts == ("14 characters", "Bitwarden") and one.answerable
    assert two.sources == () and not two.answerable


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"question": "ok"}\n{"question": \n', r"q\.jsonl:2: not JSON"),
        ('{"sources": ["a.md"]}\n', r"q\.jsonl:1: no question"),
        ('{"question": "x", "sources": ["a.pdf#deux"]}\n', "page of a.pdf#deux must be a number"),
        ('{"question": "x", "answerable": "peut-être"}\n', "answerable must be yes or no"),
        ('["question"]\n', "must hold an object"),
        ("\n\n", "holds no question"),
    ],
)
def test_a_broken_question_set_says_where_and_why(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(QuestionSetError, match=message):
        load_question_set(path)


def test_expected_sources_match_by_file_name_path_end_and_page() -> None:
    cited = [
        _citation(1, "/home/a/docs/it/vpn.md", "..."),
        _citation(2, "/home/a/docs/guide.pdf", "...", page=12),
    ]
    expected = [
        ExpectedSource("vpn.md"),
        ExpectedSource("it/vpn.md"),
        ExpectedSource("other/vpn.md"),
        ExpectedSource("guide.pdf", 12),
        ExpectedSource("guide.pdf", 3),
    ]
    assert retrieved_sources(expected, cited) == [True, True, False, True, False]


def test_facts_are_found_whatever_the_case_accents_and_spacing() -> None:
    answer = "Le plafond est de 25 Euros ; la connexion passe par le VPN  WireGuard. Périmé."
    assert facts_present(answer, ["25 euros", "wireguard", "perime", "30 euros", "Wire"]) == [
        True,
        True,
        True,
        False,
        False,  # whole words only
    ]


@pytest.mark.parametrize(
    "answer",
    [
        "The documents do not contain this information.",
        "The sources don't mention paid leave.",
        "I cannot find the answer in the documents.",
        "Les documents ne contiennent pas cette information.",
        "Les sources ne mentionnent pas le montant de la prime.",
        "Aucune information sur ce point dans les documents.",
        "Je ne trouve pas la réponse.",
    ],
)
def test_refusals_are_recognised_in_both_languages(answer: str) -> None:
    assert refused(answer)


@pytest.mark.parametrize(
    "answer",
    [
        "Passwords must be at least 14 characters long [1].",
        "On peut télétravailler deux jours par semaine [1], pas le mercredi.",
    ],
)
def test_answers_are_not_taken_for_refusals(answer: str) -> None:
    assert not refused(answer)


def test_each_citation_is_checked_against_the_passage_it_names() -> None:
    cited = [
        _citation(
            1,
            "/d/teletravail.md",
            "Chaque salarié peut télétravailler deux jours par "
            "semaine, après accord de son responsable.",
        ),
        _citation(2, "/d/frais.md", "Un repas d'affaires est remboursé jusqu'à 25 euros."),
    ]
    answer = (
        "Les salariés peuvent télétravailler deux jours par semaine [1]. "
        "Le télétravail se fait sur un bateau en Islande [2]. "
        "Voir aussi le règlement [7]."
    )
    checks = check_citations(answer, cited)
    assert [(c.n, c.valid, c.supported) for c in checks] == [
        (1, True, True),
        (2, True, False),  # the passage says nothing of the sort
        (7, False, False),  # no such source was given
    ]
    assert checks[0].sentence == "Les salariés peuvent télétravailler deux jours par semaine."


def test_the_answer_language_is_read_without_its_markers() -> None:
    assert answer_language("Le mot de passe doit faire au moins 14 caractères [1][2].") == "fr"
    assert answer_language("Passwords must be at least 14 characters long [1].") == "en"


def test_saved_runs_load_again_and_compare_side_by_side(lanterne_home: Path) -> None:
    runs = []
    for label, facts in (("length=short", 0.5), ("length=detailed", 0.75)):
        run = {
            "label": label,
            "created": "2026-12-05T10:00:00+00:00",
            "summary": {"retrieval": 1.0, "facts": facts, "ttft_ms": 812.4, "citations": None},
            "questions": [],
        }
        runs.append(load_run(save_run(run)))
    table = comparison_table(runs)
    assert table[0] == ["Measure", "length=short", "length=detailed"]
    rows = {row[0]: row[1:] for row in table[1:]}
    assert rows["Expected facts in the answer"] == ["50 %", "75 %"]
    assert rows["Citations supported by their source"] == ["—", "—"]
    assert rows["Time to first token (ms)"] == ["812", "812"]


@pytest.mark.model
def test_eval_runs_two_settings_on_the_sample_and_compares_them(
    lanterne_home: Path, gemma_model: Path, tmp_path: Path
) -> None:
    sample = tmp_path / "sample"
    written = lanterne("eval", "--example", str(sample))
    assert written.returncode == 0, written.stderr
    assert lanterne("index", "add", str(sample / "documents")).returncode == 0
    questions = sample / "questions.jsonl"
    lines = questions.read_text(encoding="utf-8").splitlines()
    subset = tmp_path / "subset.jsonl"  # an answerable and an unanswerable one, each language
    subset.write_text("\n".join([lines[1], lines[3], lines[4], lines[7]]) + "\n", "utf-8")
    done = lanterne(
        "eval",
        str(subset),
        "--model",
        str(gemma_model),
        "--variant",
        "answer.length=short,model.max_answer_tokens=16",
        "--variant",
        "answer.grounding=general,model.max_answer_tokens=16",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)["runs"]
    assert [r["label"] for r in runs] == [
        "length=short max_answer_tokens=16",
        "grounding=general max_answer_tokens=16",
    ]
    for run in runs:
        assert run["settings"]["model.temperature"] == 0.0  # reproducible unless set
        assert run["settings"]["model.path"] == str(gemma_model)
        assert run["summary"]["questions"] == 4 and run["summary"]["errors"] == 0
        assert run["summary"]["retrieval"] == 1.0  # the sample's sources are found
        assert run["summary"]["ttft_ms"] > 0 and run["summary"]["tokens_per_second"] > 0
        assert [q["language"] for q in run["questions"]] == ["fr", "fr", "en", "en"]
        assert [q["answerable"] for q in run["questions"]] == [True, False, True, False]
        # The test model is a base model: given 16 tokens it sometimes ends at once (an empty
        # answer, seen on one question since search is hybrid by default); the others answer.
        answered = [q for q in run["questions"] if q["answer"]]
        assert len(answered) >= 3
        for question in answered:
            assert bool(question["citations"]) or not question["answerable"]
        for question in run["questions"]:
            assert question["scores"]["refusal"] in (0.0, 1.0)
        assert Path(run["file"]).is_file()
    assert runs[0]["settings"]["answer.length"] == "short"
    assert runs[1]["settings"]["answer.grounding"] == "general"
    # The saved runs, compared again later, as a table a user reads.
    again = lanterne("eval", "--compare", runs[0]["file"], runs[1]["file"])
    assert again.returncode == 0, again.stderr
    header, rule, *rows = again.stdout.splitlines()
    assert "length=short" in header and "grounding=general" in header
    assert set(rule) <= {"-", " "}
    assert any(row.startswith("Expected sources retrieved") and "100 %" in row for row in rows)
    listed = lanterne("eval", "--list", "--json")
    assert {Path(r["file"]).name for r in json.loads(listed.stdout)} == {
        Path(r["file"]).name for r in runs
    }


@pytest.mark.slow
def test_eval_explains_a_bad_variant_or_a_missing_question_set(lanterne_home: Path) -> None:
    missing = lanterne("eval", "nowhere.jsonl")
    assert missing.returncode == 1 and "Cannot read the question set" in missing.stderr
    bad_key = lanterne("eval", "nowhere.jsonl", "--variant", "answer.colour=blue")
    assert bad_key.returncode == 1 and "answer.colour" in bad_key.stderr
    bad_value = lanterne("eval", "nowhere.jsonl", "--variant", "answer.length=huge")
    assert bad_value.returncode == 1 and "huge" in bad_value.stderr
    nothing = lanterne("eval")
    assert nothing.returncode == 1 and "--compare" in nothing.stderr


def test_a_rule_set_is_scored_on_what_it_declines() -> None:
    from lanterne.evaluation.question_set import EvalQuestion
    from lanterne.evaluation.results import QuestionResult, summarize

    on_salaries = EvalQuestion("Quels salaires ?", declined=True)
    on_vpn = EvalQuestion("Quel VPN ?", declined=False)
    declined = QuestionResult(on_salaries, "fr", answer="…", declined=True)
    answered = QuestionResult(on_vpn, "fr", answer="WireGuard [1].", answer_language="fr")
    missed = QuestionResult(on_salaries, "fr", answer="Les salaires…", answer_language="fr")
    assert declined.scores()["declined"] == 1.0
    assert declined.scores()["language"] is None  # said by the rules: nothing else judged
    assert answered.scores()["declined"] == 1.0 and missed.scores()["declined"] == 0.0
    assert summarize([declined, answered, missed])["declined"] == round(2 / 3, 4)
    unmarked = QuestionResult(EvalQuestion("Quel VPN ?"), "fr", answer="…")
    assert unmarked.scores()["declined"] is None


def test_the_declined_column_is_read_from_csv(tmp_path: Path) -> None:
    csv = tmp_path / "rules.csv"
    csv.write_text("question,declined\nQuels salaires ?,oui\nQuel VPN ?,non\nEt ça ?,\n", "utf-8")
    assert [q.declined for q in load_question_set(csv).questions] == [True, False, None]
