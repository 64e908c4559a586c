/*
 * text.h — plausible prose for llmtap-sim: system prompts, user questions,
 * retrieved documents and model answers for a handful of application domains.
 *
 * Text is built from sentence templates with slots ("To {action} your {noun},
 * open {menu}.") filled from per-domain word pools and random numbers, grouped
 * into paragraphs, bullet lists and code/SQL blocks. The point is realistic
 * bulk and compressibility (many distinct sentences, shared vocabulary), plus
 * the awkward bytes real traffic carries: quotes, backslashes, tabs and
 * newlines in code, accents, CJK and emoji. Output is always valid UTF-8.
 *
 * All functions append to `out` and draw only from `r`, so the text is a
 * deterministic function of the generator state.
 */
#ifndef LLMTAP_SIM_TEXT_H
#define LLMTAP_SIM_TEXT_H

#include <stddef.h>

#include "jbuf.h"
#include "rng.h"

enum text_domain {
    TEXT_SUPPORT,   /* help-center answers */
    TEXT_SEARCH,    /* product search: query rewrite, rerank explanations */
    TEXT_SUMMARY,   /* document, meeting and e-mail summaries */
    TEXT_CODE,      /* code review */
    TEXT_TRANSLATE, /* UI and document translation (multilingual) */
    TEXT_ANALYTICS, /* text-to-SQL and chart explanations */
    TEXT_DOMAIN_COUNT
};

/* Expand one template: "{slot}" is replaced by a value from the domain's pool
 * or the shared pools; unknown slots are copied literally. */
void text_expand(struct rng *r, enum text_domain d, const char *tmpl, struct jbuf *out);

/* A system prompt for the domain (one to three sentences). */
void text_system(struct rng *r, enum text_domain d, struct jbuf *out);

/* A user question or instruction; `target` bytes of extra detail are added
 * after the question (0 for a bare question). */
void text_question(struct rng *r, enum text_domain d, size_t target, struct jbuf *out);

/* A model answer of about `target` bytes: paragraphs, sometimes a bullet list
 * or a code/SQL block. At least one sentence. */
void text_answer(struct rng *r, enum text_domain d, size_t target, struct jbuf *out);

/* A retrieved document of about `target` bytes (one or more paragraphs). */
void text_doc(struct rng *r, enum text_domain d, size_t target, struct jbuf *out);

/* One sentence in a language other than English (accents, CJK, Cyrillic,
 * emoji). */
void text_foreign(struct rng *r, struct jbuf *out);

/* One value of a named slot ("person", "tenant", "table", ...). */
void text_slot(struct rng *r, enum text_domain d, const char *name, struct jbuf *out);

/* Approximate token count of UTF-8 text (≈4 bytes per token for Latin
 * script, ~1 token per CJK character). */
size_t text_tokens(const char *s, size_t n);

#endif
