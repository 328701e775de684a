#!/usr/bin/env python3
"""Evaluate one retrieval-augmented question-answering configuration.

This is the trial program of the `rag-config` example study (study.yaml beside
this file). Python 3 standard library only; no model download, no network.
It runs standalone too:

    python3 rag.py --chunk-size=128 --chunk-overlap=32 --retriever=bm25 --top-k=4 --prompt-version=v2

What it does, for every question of a question set:
  1. the corpus (a gazetteer of 30 fictional towns, generated with a fixed
     seed: facts such as founding year, river, main export, mayor, population,
     festival and twin town, among filler and distractor sentences that name
     other towns) is split into chunks of `chunk_size` words overlapping by
     `chunk_overlap` words, within each document;
  2. the retriever (`bm25`: Okapi BM25, k1=1.5, b=0.75; `tfidf`: cosine
     similarity of TF-IDF vectors) ranks the chunks; the best `top_k` are kept;
  3. the prompt template prompts/<prompt_version>.txt is filled with the
     numbered chunks and the question: that is the assembled prompt;
  4. an extractive reader stands in for the language model: it answers with
     the context sentence that best matches the question, following what the
     prompt tells it (v2 lists equivalent terms, which the reader then counts
     as matches, and asks for a sentence naming the place asked about).

Questions are paraphrased ("In which year was X founded?" for the fact "X was
established in ..."), so word overlap alone is not enough.

Metrics (hpod trial protocol, on stdout):
  answer_relevance = (retrieval_mrr + answer_accuracy) / 2, where retrieval_mrr
      is the mean of 1/rank of the first retrieved chunk containing the whole
      gold sentence (0 when none of the top_k does) and answer_accuracy the
      share of answers that contain the gold answer and name the right town;
  latency_sec: mean wall time per question (retrieve + assemble + answer);
  tokens_used: tokens of all assembled prompts (words and punctuation marks);
  cost_usd: tokens_used / 1000 * price per 1k tokens (env PRICE_PER_1K_TOKENS,
      set by the study's trial.env; default 0.002);
and retrieval_recall, retrieval_mrr, answer_accuracy, tokens_per_question.
A `hpod {"step": n, ...}` line every 10 questions, then a `final` line.

Artifacts in $HPOD_ARTIFACT_DIR (or the current directory): prompt.txt and
response.txt (the assembled prompt and the answer for the first question),
answers.jsonl (every question: retrieved chunks, answer, correctness) and
rag_config.json (the configuration and its metrics: what the study registers).

Env RAG_QUESTIONS=N evaluates only the first N questions (for fast tests).
`python3 rag.py --dump-corpus DIR` writes the generated corpus and questions.

Exit status: 0 success, 2 bad arguments.
"""

import argparse
import json
import math
import os
import random
import re
import sys
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS_SEED = 515           # fixed: every trial sees the same corpus and questions
N_TOWNS = 30
QUESTIONS_PER_TOWN = 2
FILLERS_PER_DOC = 26
DEFAULT_PRICE_PER_1K = 0.002
RETRIEVERS = ("bm25", "tfidf")

STOPWORDS = set("""a an and are as at be been by for from has have in into is it its of on or
the their there this to was were what when where which who whom with how many much does did
do that than then these those our your his her they them he she we you i not no""".split())

# --------------------------------------------------------------------------
# The corpus and the questions (generated with a fixed seed)
# --------------------------------------------------------------------------

SYLLABLES = ["ar", "bel", "cor", "dun", "el", "fal", "gar", "hal", "is", "kel", "lor", "mar",
             "nor", "or", "pel", "quin", "ros", "sal", "tor", "ul", "ven", "wen", "yr", "zan"]
ENDINGS = ["ford", "mere", "vale", "holm", "stead", "wick", "by", "ton", "haven", "moor"]
RIVERS = ["Aldra", "Brisk", "Calder", "Dovey", "Elm", "Fenn", "Glass", "Harrow", "Isen", "Kestrel",
          "Lune", "Marrow", "Nene", "Ouse", "Pell", "Quill", "Rother", "Sable", "Teme", "Wyre"]
GOODS = ["wool", "salt", "cider", "copper", "timber", "honey", "linen", "slate", "cheese", "glassware",
         "rope", "pottery", "amber", "barley", "leather", "tin", "saffron", "paper"]
FIRST = ["Ada", "Bram", "Cora", "Dirk", "Edda", "Finn", "Greta", "Hugo", "Ines", "Jonas", "Klara",
         "Lars", "Mira", "Nils", "Olga", "Piet", "Rosa", "Sven", "Tilde", "Ulf", "Vera", "Wim"]
LAST = ["Ashdown", "Brook", "Carver", "Dale", "Ebbing", "Foss", "Grange", "Hollis", "Ivers",
        "Jessop", "Kettle", "Lowe", "Marsh", "Norcott", "Orme", "Pryor", "Quarry", "Rook"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
THINGS = ["lanterns", "boat races", "bread", "music", "masks", "horses", "kites", "fireworks"]
FESTIVALS = ["Lantern", "Harvest", "Tide", "Ember", "Blossom", "Frost", "Willow", "Heron", "Bell", "Comet"]
FILLERS = [
    "The climate is mild, with wet winters and long dry summers.",
    "The old town has narrow streets and tall stone houses.",
    "Local markets open early on weekdays and close at noon.",
    "Visitors often remark on the quiet evenings and the clean air.",
    "A small museum keeps maps, coins and letters from earlier centuries.",
    "Most houses are built from a pale local stone.",
    "The surrounding hills are covered with orchards and sheep pastures.",
    "Buses leave for the coast twice a day in summer.",
    "The town library was rebuilt after a fire and now holds many old books.",
    "Cyclists use the towpath along the water on fine days.",
    "Several inns near the square serve fish, stews and dark bread.",
    "The parish church has a painted ceiling and a tall bell tower.",
    "A weekly newspaper reports on council meetings and school sports.",
    "Winter storms sometimes close the mountain pass for a few days.",
    "The local school teaches children from the surrounding farms.",
    "Walkers follow marked trails through the woods to the waterfalls.",
]


def town_names(rng):
    names = set()
    while len(names) < N_TOWNS:
        names.add((rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(ENDINGS)).capitalize())
    return sorted(names)


def make_corpus(seed=CORPUS_SEED):
    """Documents [{"id", "title", "sentences": [(text, fact or None)]}] and questions."""
    rng = random.Random(seed)
    towns = town_names(rng)
    docs, questions = [], []
    for t, town in enumerate(towns):
        other = [x for x in towns if x != town]
        twin, buyer = rng.sample(other, 2)
        person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        festival = rng.choice(FESTIVALS)
        facts = {
            "founded": (f"{town} was established in {rng.randint(1150, 1890)} by {rng.choice(['monks', 'fishermen', 'miners', 'farmers', 'traders'])} from the {rng.choice(['north', 'south', 'east', 'west'])}.",
                        f"In which year was {town} founded?"),
            "river": (f"The {rng.choice(RIVERS)} flows past the old harbour of {town}.",
                      f"Which river runs through {town}?"),
            "export": (f"The main export of {town} is {rng.choice(GOODS)}, shipped mostly to {buyer}.",
                       f"What is the chief export of {town}?"),
            "mayor": (f"{person} was elected mayor of {town} in {rng.randint(2001, 2023)}.",
                      f"Who leads {town} today?"),
            "population": (f"About {rng.randint(2, 95) * 1000 + rng.randint(1, 9) * 100} inhabitants live in {town} today.",
                           f"What is the population of {town}?"),
            "festival": (f"Every {rng.choice(MONTHS)} {town} hosts the {festival} festival, known for its {rng.choice(THINGS)}.",
                         f"When is the {festival} festival held in {town}?"),
            "twin": (f"{town} has been twinned with {twin} since {rng.randint(1950, 2015)}.",
                     f"Which town is the partner town of {town}?"),
        }
        answers = {
            "founded": re.search(r"\d{4}", facts["founded"][0]).group(0),
            "river": facts["river"][0].split(" flows")[0].replace("The ", ""),
            "export": facts["export"][0].split(" is ")[1].split(",")[0],
            "mayor": person,
            "population": re.search(r"\d+", facts["population"][0]).group(0),
            "festival": facts["festival"][0].split()[1],
            "twin": twin,
        }
        sentences = [(text, kind) for kind, (text, _) in facts.items()]
        for _ in range(FILLERS_PER_DOC):
            kind = rng.random()
            a, b = rng.sample(other, 2)
            if kind < 0.35:   # distractors: other towns named in this document
                sentences.append((rng.choice([
                    f"Many families from {a} moved here after the floods of {rng.randint(1700, 1950)}.",
                    f"The railway from {town} to {a} was completed in {rng.randint(1850, 1930)}.",
                    f"Merchants of {a} traded {rng.choice(GOODS)} with the people of {town}.",
                    f"A road across the hills links {town} with {a} and {b}.",
                    f"Travellers from {a} often compare its markets with those of {b}.",
                    f"The football club of {town} plays its old rivals from {a} every spring.",
                ]), None))
            else:
                sentences.append((rng.choice(FILLERS), None))
        body = sentences[1:]
        rng.shuffle(body)
        sentences = [sentences[0]] + body   # the founding sentence opens the article
        docs.append({"id": t, "title": town, "sentences": sentences})
        for kind in rng.sample(sorted(facts), QUESTIONS_PER_TOWN):
            questions.append({"id": len(questions), "town": town, "doc": t, "kind": kind,
                              "question": facts[kind][1], "gold_sentence": facts[kind][0],
                              "answer": answers[kind]})
    rng.shuffle(questions)
    for i, q in enumerate(questions):
        q["id"] = i
    return docs, questions


# --------------------------------------------------------------------------
# Chunking and retrieval
# --------------------------------------------------------------------------

TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text):
    """Prompt tokens: words and punctuation marks (a stand-in for a tokenizer)."""
    return len(TOKEN.findall(text))


def terms(text):
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS]


def make_chunks(docs, size, overlap):
    """Windows of `size` words moving by size - overlap, within each document.
    Each chunk records which fact sentences it contains whole."""
    chunks = []
    stride = max(1, size - overlap)
    for doc in docs:
        words, spans = [], []
        for text, kind in doc["sentences"]:
            start = len(words)
            words.extend(text.split())
            spans.append((start, len(words), text))
        start = 0
        while True:
            end = min(start + size, len(words))
            whole = {text for s, e, text in spans if s >= start and e <= end}
            chunks.append({"id": len(chunks), "doc": doc["id"], "title": doc["title"],
                           "text": " ".join(words[start:end]), "whole_sentences": whole})
            if end >= len(words):
                break
            start += stride
    return chunks


class BM25:
    def __init__(self, chunks, k1=1.5, b=0.75):
        self.k1, self.b = k1, b
        self.tfs = [Counter(terms(c["text"])) for c in chunks]
        self.lengths = [sum(tf.values()) for tf in self.tfs]
        self.avg = sum(self.lengths) / len(self.lengths)
        df = Counter(t for tf in self.tfs for t in tf)
        n = len(chunks)
        self.idf = {t: math.log(1.0 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}

    def scores(self, query):
        q = terms(query)
        out = []
        for tf, length in zip(self.tfs, self.lengths):
            s = 0.0
            norm = self.k1 * (1.0 - self.b + self.b * length / self.avg)
            for t in q:
                f = tf.get(t)
                if f:
                    s += self.idf[t] * f * (self.k1 + 1.0) / (f + norm)
            out.append(s)
        return out


class TfIdfCosine:
    def __init__(self, chunks):
        tfs = [Counter(terms(c["text"])) for c in chunks]
        df = Counter(t for tf in tfs for t in tf)
        n = len(chunks)
        self.idf = {t: math.log((1.0 + n) / (1.0 + d)) + 1.0 for t, d in df.items()}
        self.vectors = [self._vector(tf) for tf in tfs]

    def _vector(self, tf):
        v = {t: (1.0 + math.log(f)) * self.idf.get(t, 0.0) for t, f in tf.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {t: x / norm for t, x in v.items()}

    def scores(self, query):
        q = self._vector(Counter(terms(query)))
        return [sum(w * v.get(t, 0.0) for t, w in q.items()) for v in self.vectors]


def retrieve(index, query, top_k):
    scores = index.scores(query)
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return order[:top_k]


# --------------------------------------------------------------------------
# Prompt and extractive reader
# --------------------------------------------------------------------------

def load_template(version):
    path = os.path.join(HERE, "prompts", f"{version}.txt")
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as error:
        raise SystemExit(f"rag.py: no prompt template for prompt_version {version!r}: {error}")
    return "\n".join(line for line in lines if not line.startswith("#")).strip() + "\n"


def glossary(prompt_template):
    """Equivalent terms listed in the template ('- founded: established, settled')."""
    groups = {}
    for line in prompt_template.splitlines():
        m = re.match(r"^- ([a-z ]+): ([a-z, ]+)$", line.strip())
        if m:
            words = [m.group(1).strip()] + [w.strip() for w in m.group(2).split(",")]
            for w in words:
                groups.setdefault(w, set()).update(words)
    return groups


def assemble(template, question, chunks):
    context = "\n".join(f"[{i + 1}] {c['text']}" for i, c in enumerate(chunks))
    return template.replace("{context}", context).replace("{question}", question)


def answer(question, subject, chunks, synonyms, strict_subject):
    """The context sentence (or sentence fragment at a chunk edge) that matches
    the question best; ties go to the better-ranked chunk."""
    q_terms = set(terms(question))
    expanded = set(q_terms)
    for t in q_terms:
        expanded |= synonyms.get(t, set())
    best, best_score = "I don't know.", 0.0
    for rank, chunk in enumerate(chunks):
        about_subject = chunk["title"] == subject
        for sentence in re.split(r"(?<=[.!?])\s+", chunk["text"]):
            s_terms = set(terms(sentence))
            score = len(expanded & s_terms)
            if strict_subject:
                if subject.lower() not in s_terms:
                    continue
                score += 0.5 if about_subject else 0.0
            score -= 0.01 * rank
            if score > best_score:
                best, best_score = sentence, score
    return best


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Evaluate one RAG configuration (an hpod example trial).")
    p.add_argument("--chunk-size", type=int, default=128, help="words per chunk (default 128)")
    p.add_argument("--chunk-overlap", type=int, default=0, help="words shared by consecutive chunks (default 0)")
    p.add_argument("--retriever", choices=RETRIEVERS, default="bm25")
    p.add_argument("--top-k", type=int, default=4, help="chunks put in the prompt (default 4)")
    p.add_argument("--prompt-version", default="v1", help="template prompts/<version>.txt (default v1)")
    p.add_argument("--dump-corpus", metavar="DIR", help="write corpus.txt and questions.jsonl to DIR and exit")
    args = p.parse_args(argv)
    if args.chunk_size < 8:
        p.error("--chunk-size must be >= 8")
    if not 0 <= args.chunk_overlap < args.chunk_size:
        p.error("--chunk-overlap must be in [0, chunk-size)")
    if args.top_k < 1:
        p.error("--top-k must be >= 1")
    return args


def emit(payload):
    print("hpod " + json.dumps(payload), flush=True)


def dump_corpus(directory, docs, questions):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "corpus.txt"), "w", encoding="utf-8") as f:
        for doc in docs:
            f.write(f"# {doc['title']}\n" + " ".join(text for text, _ in doc["sentences"]) + "\n\n")
    with open(os.path.join(directory, "questions.jsonl"), "w", encoding="utf-8") as f:
        for q in questions:
            f.write(json.dumps(q) + "\n")
    print(f"wrote {len(docs)} documents and {len(questions)} questions to {directory}")


def main(argv=None):
    args = parse_args(argv)
    docs, questions = make_corpus()
    if args.dump_corpus:
        dump_corpus(args.dump_corpus, docs, questions)
        return 0
    limit = os.environ.get("RAG_QUESTIONS")
    if limit:
        questions = questions[:max(1, int(limit))]
    price = float(os.environ.get("PRICE_PER_1K_TOKENS", DEFAULT_PRICE_PER_1K))
    template = load_template(args.prompt_version)
    synonyms = glossary(template)
    strict_subject = "must name the place" in template

    chunks = make_chunks(docs, args.chunk_size, args.chunk_overlap)
    index = BM25(chunks) if args.retriever == "bm25" else TfIdfCosine(chunks)
    print(f"rag-config: {len(docs)} documents, {len(chunks)} chunks, {len(questions)} questions, "
          f"chunk_size={args.chunk_size} chunk_overlap={args.chunk_overlap} retriever={args.retriever} "
          f"top_k={args.top_k} prompt={args.prompt_version} price_per_1k_tokens={price}", flush=True)

    out_dir = os.environ.get("HPOD_ARTIFACT_DIR") or "."
    os.makedirs(out_dir, exist_ok=True)
    records, rr_sum, found, correct, tokens, seconds = [], 0.0, 0, 0, 0, 0.0
    for n, q in enumerate(questions, 1):
        t0 = time.perf_counter()
        hits = [chunks[i] for i in retrieve(index, q["question"], args.top_k)]
        prompt = assemble(template, q["question"], hits)
        response = answer(q["question"], q["town"], hits, synonyms, strict_subject)
        seconds += time.perf_counter() - t0
        rank = next((r for r, c in enumerate(hits, 1) if q["gold_sentence"] in c["whole_sentences"]), None)
        ok = q["answer"] in response and q["town"] in response
        rr_sum += 1.0 / rank if rank else 0.0
        found += rank is not None
        correct += ok
        tokens += count_tokens(prompt)
        records.append({"question_id": q["id"], "question": q["question"], "gold": q["answer"],
                        "retrieved": [{"chunk": c["id"], "doc": c["title"]} for c in hits],
                        "gold_rank": rank, "response": response, "correct": ok})
        if n == 1:
            with open(os.path.join(out_dir, "prompt.txt"), "w", encoding="utf-8") as f:
                f.write(prompt)
            with open(os.path.join(out_dir, "response.txt"), "w", encoding="utf-8") as f:
                f.write(response + "\n")
        if n % 10 == 0 or n == len(questions):
            emit({"step": n, "answer_relevance": round((rr_sum / n + correct / n) / 2, 6),
                  "retrieval_recall": round(found / n, 6), "answer_accuracy": round(correct / n, 6)})

    n = len(questions)
    metrics = {
        "answer_relevance": round((rr_sum / n + correct / n) / 2, 6),
        "retrieval_mrr": round(rr_sum / n, 6),
        "retrieval_recall": round(found / n, 6),
        "answer_accuracy": round(correct / n, 6),
        "latency_sec": round(seconds / n, 6),
        "tokens_used": tokens,
        "tokens_per_question": round(tokens / n, 1),
        "cost_usd": round(tokens / 1000.0 * price, 6),
    }
    with open(os.path.join(out_dir, "answers.jsonl"), "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    config = {"format": "hpod-rag-config/1", "chunk_size": args.chunk_size,
              "chunk_overlap": args.chunk_overlap, "retriever": args.retriever, "top_k": args.top_k,
              "prompt_version": args.prompt_version, "prompt_template": template,
              "price_per_1k_tokens": price, "questions": n, "metrics": metrics}
    with open(os.path.join(out_dir, "rag_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    print("done: " + " ".join(f"{k}={v}" for k, v in metrics.items()), flush=True)
    emit({"final": True, **metrics})
    return 0


if __name__ == "__main__":
    sys.exit(main())
