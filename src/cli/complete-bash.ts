/**
 * The bash side of tab completion: the script `qpy completion bash` prints
 * (and `qpy-admin completion bash`), and the reply `__complete` prints for
 * it. The reply's first line says what to add to its candidate lines: bash's
 * own directories, file names, or programs (command names and files); or
 * that the lines are a help text.
 */
import type { CompletionReply } from './complete.js';

/**
 * The bash script that hooks `tool` up to `tool __complete CWORD WORDS…`.
 * Help lines become the candidates, padded to the width of the terminal so
 * that bash lists them one per row in their order; no two start alike, so
 * bash inserts nothing and the line stays as it was typed (`qpy kill ?`).
 */
export function bashScript(tool: string): string {
  const fn = `_${tool.replace(/[^A-Za-z0-9]/g, '_')}_complete`;
  return `# bash completion for ${tool}: add  eval "$(${tool} completion bash)"  to ~/.bashrc
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} reply mode i
  [[ $cur == = ]] && cur=
  reply=$(${tool} __complete "$COMP_CWORD" "\${COMP_WORDS[@]:1}" 2>/dev/null) || return 0
  mode=\${reply%%$'\\n'*}
  if [[ $reply == *$'\\n'* ]]; then reply=\${reply#*$'\\n'}; else reply=; fi
  COMPREPLY=()
  [[ -n $reply ]] && mapfile -t COMPREPLY <<< "$reply"
  case $mode in
    help)
      if [[ $COMP_TYPE == 37 || $COMP_TYPE == 42 ]]; then COMPREPLY=(); return 0; fi
      compopt -o nosort 2>/dev/null
      for i in "\${!COMPREPLY[@]}"; do printf -v "COMPREPLY[$i]" '%-*s' $(( \${COLUMNS:-80} - 2 )) "\${COMPREPLY[i]}"; done ;;
    dirs) compopt -o filenames 2>/dev/null; mapfile -t -O \${#COMPREPLY[@]} COMPREPLY < <(compgen -d -- "$cur") ;;
    files) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    programs) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -c -- "$cur"; compgen -f -- "$cur") ;;
  esac
}
complete -F ${fn} ${tool}
`;
}

/** The reply as `tool __complete` prints it for the script above. */
export function renderReply(r: CompletionReply): string {
  if (r.kind === 'files') return 'files';
  if (r.kind === 'commands') return 'programs';
  if (r.kind === 'help') return ['help', ...r.lines].join('\n');
  return [r.dirs ? 'dirs' : 'words', ...r.words].join('\n');
}
