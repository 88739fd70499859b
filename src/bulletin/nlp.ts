/**
 * The Japanese morphological analyser (kuromoji with the IPADIC dictionary that ships inside
 * its npm package — nothing is downloaded), loaded once per process and shared.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { JaTokenizer, Morph } from './core/text.js';

interface KuromojiToken {
  surface_form: string;
  basic_form: string;
  pos: string;
  pos_detail_1: string;
}
interface KuromojiTokenizer {
  tokenize(text: string): KuromojiToken[];
}

let loading: Promise<JaTokenizer> | undefined;

/** The shared Japanese tokenizer (about a second to load the first time). */
export function japaneseTokenizer(): Promise<JaTokenizer> {
  loading ??= new Promise<JaTokenizer>((resolve, reject) => {
    const require = createRequire(import.meta.url);
    const kuromoji = require('kuromoji') as {
      builder(o: { dicPath: string }): {
        build(cb: (err: unknown, t: KuromojiTokenizer) => void): void;
      };
    };
    const dicPath = join(dirname(require.resolve('kuromoji/package.json')), 'dict');
    kuromoji.builder({ dicPath }).build((err, t) => {
      if (err) {
        loading = undefined;
        reject(err);
        return;
      }
      resolve((text: string): Morph[] =>
        t.tokenize(text).map((k) => ({
          surface: k.surface_form,
          base: k.basic_form,
          pos: `${k.pos},${k.pos_detail_1}`,
        })),
      );
    });
  });
  return loading;
}
