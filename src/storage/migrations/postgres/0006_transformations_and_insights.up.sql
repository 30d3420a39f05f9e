-- Transformations (prompts run over a source), the insights they produce, the global
-- instructions put in front of every transformation, and vectors of insights.

CREATE TABLE transformation (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  -- Sent to the model as plain text: never rendered as a template.
  prompt TEXT NOT NULL,
  apply_default BOOLEAN NOT NULL DEFAULT false,
  model_id TEXT REFERENCES model (id) ON DELETE SET NULL,
  created TEXT NOT NULL,
  updated TEXT NOT NULL
);
CREATE INDEX transformation_by_name ON transformation (lower(name), id);

CREATE TABLE source_insight (
  id TEXT PRIMARY KEY,
  source_id TEXT NOT NULL REFERENCES source (id) ON DELETE CASCADE,
  insight_type TEXT NOT NULL,  -- the transformation's title when the insight was made
  content TEXT NOT NULL,
  transformation_id TEXT REFERENCES transformation (id) ON DELETE SET NULL,
  model_id TEXT REFERENCES model (id) ON DELETE SET NULL,
  -- The job that made the insight. Unique, so a job that runs again after a crash replaces its
  -- insight instead of adding a second one.
  command_id TEXT UNIQUE,
  created TEXT NOT NULL,
  updated TEXT NOT NULL
);
CREATE INDEX source_insight_by_source ON source_insight (source_id, created);

-- The embedding table gains insight_id; a vector belongs to exactly one chunk, note or insight.
ALTER TABLE embedding ADD COLUMN insight_id TEXT REFERENCES source_insight (id) ON DELETE CASCADE;
ALTER TABLE embedding DROP CONSTRAINT embedding_one_owner;
ALTER TABLE embedding ADD CONSTRAINT embedding_one_owner
  CHECK (num_nonnulls(chunk_id, note_id, insight_id) = 1);
CREATE UNIQUE INDEX embedding_by_insight ON embedding (insight_id, model) WHERE insight_id IS NOT NULL;

-- The global instructions, editable through PUT /api/transformations/default-prompt.
INSERT INTO app_setting (key, value, updated) VALUES ('transformation_instructions',
'You are a research assistant inside a personal research notebook. The user has added a document to the notebook and asks you to process it as the instructions below describe.

- Work only from the document you are given. Do not add facts it does not contain; when it does not cover something the instructions ask for, say so briefly.
- Write in the language of the document unless the instructions ask for another one.
- Output only the requested content, in Markdown, with no preamble such as "Here is" and no closing remarks.
- Do not ask questions back and do not stop to confirm: produce the best result you can from the text you have.
- The user owns or is entitled to use this document, so do not add copyright warnings or disclaimers.',
to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'));

-- The six default transformations. Fixed ids, so the defaults have the same id in every
-- installation.
INSERT INTO transformation (id, name, title, description, prompt, apply_default, created, updated)
SELECT id, name, title, description, prompt, apply_default, now, now
FROM (SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS now) AS t,
(SELECT 'transformation:analyze_paper' AS id, 'Analyze Paper' AS name, 'Paper Analysis' AS title,
  'Analyses a research paper: purpose, contribution, key findings, implications and limitations.' AS description,
'Analyse the document as a research paper and report on it under these five Markdown headings, in this order:

## PURPOSE
What question the work sets out to answer and why it matters.

## CONTRIBUTION
What is new: the method, data, result or argument the authors add to their field.

## KEY FINDINGS
The main results, with the numbers, effect sizes or conditions the paper reports.

## IMPLICATIONS
What follows from the findings for practice, policy or further research.

## LIMITATIONS
Weaknesses of the method, data or reasoning, including those the authors admit and those a careful reviewer would raise.

Under each heading write 3 to 6 bullet points of 15 to 20 words each. If the document is not a research paper, apply the same headings to the argument it makes.' AS prompt, false AS apply_default
UNION ALL SELECT 'transformation:key_insights', 'Key Insights', 'Key Insights',
  'Extracts the 10 to 25 most important insights of the document as short bullet points.',
'Read the whole document and note to yourself every idea, claim, fact and recommendation it contains (usually 20 to 50). Then keep the 10 to 25 that are most important, surprising or useful to someone who will not read the document.

Output them under the heading "## INSIGHTS" as bullet points, one insight per bullet, each about 15 words. Order them from most to least important. Each bullet must stand on its own: name the subject instead of writing "it" or "they", and do not repeat an insight in other words.', false
UNION ALL SELECT 'transformation:dense_summary', 'Dense Summary', 'Dense Summary',
  'A compact, information-dense summary that keeps the facts, names and numbers of the document.',
'Write a dense summary of the document for a reader who needs its full content in the fewest words, for example to recall it later or to give it to another language model as context.

- Write short, complete declarative statements, one idea per line, grouped under short headings that follow the structure of the document.
- Keep every name, number, date, definition, causal link and conclusion; drop examples, repetition, rhetoric and filler.
- Use the terms of the document itself, so the summary can be searched with them.
- Aim for about a tenth of the length of the document, but never leave out a distinct fact to save space.', true
UNION ALL SELECT 'transformation:reflections', 'Reflections', 'Reflection Questions',
  'Questions and prompts that help the reader think about the document and apply it.',
'Write the questions a thoughtful reader should ask after reading this document: about its assumptions, its evidence, what it leaves out, how it connects to other work and how its ideas could be applied.

Output them under the heading "## REFLECTIONS" as 3 to 5 bullet points of 20 to 25 words each. Each bullet is a question, or an observation followed by a question, and refers to a specific point of the document rather than to the document in general.', false
UNION ALL SELECT 'transformation:table_of_contents', 'Table of Contents', 'Table of Contents',
  'An ordered table of contents of the topics the document covers, with a one-line description each.',
'Write a table of contents of the document: the topics it covers, in the order in which it covers them.

Output a numbered Markdown list. Each entry is the topic in a few words, in bold, followed by a dash and one sentence saying what the document says about it. Use nested numbering (1.1, 1.2) for subtopics when the document has a clear hierarchy, and at most two levels. Use the headings of the document when it has meaningful ones; otherwise name the topics yourself.', false
UNION ALL SELECT 'transformation:simple_summary', 'Simple Summary', 'Simple Summary',
  'A short summary in plain language.',
'Summarise the document in plain language for a reader who is new to its subject.

Write one paragraph of 3 to 5 sentences that says what the document is about, its main point and why it matters, followed by up to 5 bullet points with its most important details. Explain any technical term you cannot avoid. Keep the whole summary under 200 words.', false) AS d;
