// Every string exists in both languages, with the same placeholders, and every key the code
// uses exists.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import en from './locales/en.json';
import zhCN from './locales/zh-CN.json';

type Tree = { [key: string]: string | Tree };
const PLURAL = /_(zero|one|two|few|many|other)$/;

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(path, value);
    else for (const [inner, text] of flatten(value, path)) out.set(inner, text);
  }
  return out;
}

// Plural forms differ by language (English has one/other, Chinese only other), so keys are
// compared without the plural suffix.
function baseKeys(strings: Map<string, string>): Set<string> {
  return new Set([...strings.keys()].map((key) => key.replace(PLURAL, '')));
}

function placeholders(text: string): string[] {
  return [...text.matchAll(/{{\s*(\w+)\s*}}/g)].map((match) => match[1]!).sort();
}

const languages = { en: flatten(en as Tree), 'zh-CN': flatten(zhCN as Tree) };

describe('locale files', () => {
  it('have the same keys in English and Simplified Chinese', () => {
    const english = baseKeys(languages.en);
    const chinese = baseKeys(languages['zh-CN']);
    expect([...english].filter((key) => !chinese.has(key))).toEqual([]);
    expect([...chinese].filter((key) => !english.has(key))).toEqual([]);
  });

  it('give every plural key an "other" form in each language', () => {
    for (const [language, strings] of Object.entries(languages)) {
      const plural = [...strings.keys()].filter((key) => PLURAL.test(key)).map((key) => key.replace(PLURAL, ''));
      for (const key of plural) expect(strings.has(`${key}_other`), `${language}: ${key}_other`).toBe(true);
    }
  });

  it('use the same placeholders in both languages', () => {
    for (const [key, text] of languages.en) {
      const base = key.replace(PLURAL, '');
      const chinese = languages['zh-CN'].get(key) ?? languages['zh-CN'].get(`${base}_other`);
      expect(chinese, key).toBeDefined();
      expect(placeholders(chinese!), key).toEqual(placeholders(text));
    }
  });

  it('have no empty and no untranslated Chinese strings', () => {
    for (const [key, text] of languages['zh-CN']) {
      expect(text.trim(), key).not.toBe('');
      // Words of four or more Latin letters that are not names or placeholders mean a string was
      // copied, not translated.
      const latin = text.replace(/{{\s*\w+\s*}}/g, '').match(/[A-Za-z]{4,}/g) ?? [];
      const allowed = new Set(['Open', 'Notebook', 'English', 'Markdown', 'Base', 'open', 'notebook', 'help', 'token', 'Ctrl', 'Enter']);
      expect(latin.filter((word) => !allowed.has(word)), key).toEqual([]);
    }
  });

  it('contain every key the code uses', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.tsx?$/.test(name) && !name.includes('.test.')) files.push(path);
      }
    };
    walk(join(__dirname, '..'));
    const used = new Set<string>();
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/\bt\(\s*'([a-zA-Z0-9_.]+)'/g)) used.add(match[1]!);
      for (const match of source.matchAll(/key: '([a-z]+\.[a-zA-Z0-9_.]+)'/g)) used.add(match[1]!);
    }
    expect(used.size).toBeGreaterThan(100);
    for (const [language, strings] of Object.entries(languages)) {
      const keys = baseKeys(strings);
      expect([...used].filter((key) => !keys.has(key)), language).toEqual([]);
    }
  });

  it('cover the keys built at run time', () => {
    const dynamic = [
      ...['link', 'upload', 'text'].map((kind) => `sources.kinds.${kind}`),
      ...['new', 'queued', 'running', 'completed', 'failed', 'cancelled'].map((status) => `status.${status}`),
      ...['source', 'chunk', 'note', 'insight'].map((kind) => `passage.kinds.${kind}`),
      ...['new', 'queued', 'running', 'completed', 'failed', 'cancelled'].map((status) => `jobStatus.${status}`),
      ...['language', 'embedding', 'text_to_speech', 'speech_to_text'].map((type) => `models.types.${type}`),
      ...[
        'default_chat_model',
        'default_transformation_model',
        'large_context_model',
        'default_tools_model',
        'default_embedding_model',
        'default_text_to_speech_model',
        'default_speech_to_text_model',
      ].map((slot) => `models.slots.${slot}`),
      ...[
        'log_level',
        'worker_max_tasks',
        'retry_max_attempts',
        'retry_wait_min_s',
        'retry_wait_max_s',
        'fetch_timeout_s',
        'pdf_timeout_s',
        'chunk_size',
        'chunk_overlap',
        'sync_processing_timeout_s',
        'default_embedding_option',
      ].map((field) => `settings.runtime.${field}`),
    ];
    for (const strings of Object.values(languages)) {
      for (const key of dynamic) expect(strings.has(key), key).toBe(true);
    }
  });
});
