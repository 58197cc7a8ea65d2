# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for sbx

# The `sbx run` options that take a value, and all of them, sorted.
_sbx_run_value_opts='--bind --boottime --env --hostname --monotonic --net --ro-bind --tmpfs --workdir -e -w'
_sbx_run_opts='--bind --boottime --clearenv --env --help --hostname --map-root --monotonic --net
  --no-subids --ro-bind --share-tty --tmpfs --verbose --workdir -e -h -v -w'

_sbx_run () {
  local start=$1 i w

  # After `--` or after the first word that is neither an option nor an
  # option's value, the rest is the inner command: hand off to its completion.
  for ((i = start + 1; i < cword; i++)); do
    w=${words[i]}
    if [[ $w == -- ]]; then
      _command_offset $((i + 1))
      return
    fi
    if [[ " $_sbx_run_value_opts " == *" $w "* ]]; then
      ((i++))
      continue
    fi
    if [[ $w != -* ]]; then
      _command_offset "$i"
      return
    fi
  done

  local opt=$prev value=$cur
  if [[ $cur == --*=* ]]; then
    opt=${cur%%=*}
    value=${cur#*=}
  elif [[ " $_sbx_run_value_opts " != *" $prev "* ]]; then
    opt=
  fi
  case $opt in
    --net)
      COMPREPLY=($(compgen -W 'host none' -- "$value"))
      return ;;
    --bind | --ro-bind)
      cur=$value _filedir
      return ;;
    --workdir | -w | --tmpfs)
      cur=$value _filedir -d
      return ;;
    --env | -e)
      compopt -o nospace
      COMPREPLY=($(compgen -e -S = -- "$value"))
      return ;;
    --hostname | --monotonic | --boottime)
      return ;;
  esac

  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$_sbx_run_opts" -- "$cur"))
    [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
    return
  fi
  COMPREPLY=($(compgen -c -- "$cur"))
}

_sbx () {
  local cur prev words cword
  _init_completion || return

  local commands='help run' i cmd= cmd_at=0
  for ((i = 1; i < cword; i++)); do
    if [[ ${words[i]} != -* ]]; then
      cmd=${words[i]}
      cmd_at=$i
      break
    fi
  done

  case $cmd in
    '')
      if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '--help --version -V -h' -- "$cur"))
      else
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
      fi ;;
    help)
      [[ $cword -eq $((cmd_at + 1)) ]] && COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
    run)
      _sbx_run "$cmd_at" ;;
  esac
}
complete -F _sbx sbx
