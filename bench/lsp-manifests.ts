/** Generated manifests for the language-server bench and tests. */

/** A manifest of `n` steps (~11 lines each), chained by needs and by outs → deps. */
export function generatedManifest(n: number): string {
  const parts = [
    'version: 1\nproject: generated\ndescription: A generated pipeline for benchmarks and tests.\n',
    'params:\n  lr: 0.05\n  epochs: 30\n  seed: 7\n',
    'datasets:\n  raw:\n    path: data/raw.csv\n    format: csv\n',
    'steps:\n',
  ];
  for (let i = 0; i < n; i++) {
    parts.push(
      `  step${i}:\n` +
        `    description: generated step ${i}\n` +
        `    cmd: python run.py --index ${i} --lr \${params.lr} --seed \${params.seed}\n` +
        (i ? `    needs: [step${i - 1}]\n` : '') +
        '    deps:\n      - run.py\n' +
        (i ? `      - out/${i - 1}.csv\n` : '      - ${datasets.raw.path}\n') +
        '    params: [lr, seed]\n' +
        `    outs: [out/${i}.csv]\n` +
        '    timeout: 5m\n',
    );
  }
  parts.push('models:\n  clf:\n    from: step0\n    artifact: out/0.csv\n    flavor: command\n    command: python serve.py\n');
  return parts.join('');
}

/** The files a generated manifest reads, so that no dependency is reported missing. */
export const GENERATED_FILES: Record<string, string> = {
  'run.py': 'print("step")\n',
  'serve.py': 'print("serve")\n',
  'data/raw.csv': 'a,b\n1,2\n',
};
