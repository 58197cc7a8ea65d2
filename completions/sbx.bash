# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for sbx

# The `sbx run` options that take a value, and all of them, sorted.
_sbx_run_value_opts='--allow-net --bind --boottime --cap-add --cap-drop --cpus --deny-net --env
  --hostname --io-weight --layer --memory --monotonic --mtu --name --net --net-log --overlay
  --pids-limit --profile --publish --ro-bind --rootfs --seccomp --shm-size --tmp-size --tmpfs --upper
  --upper-size --workdir -e -p -w'
_sbx_run_opts='--allow-host-loopback --allow-net --bind --boottime --cap-add --cap-drop --clearenv
  --cpus --deny-net --env --help --hostname --io-weight --layer --map-root --memory --monotonic --mtu
  --name --net --net-log --no-ipv6 --no-pty --no-subids --overlay --pids-limit --profile --publish
  --review --ro-bind --rootfs --seccomp --share-tty --shm-size --tmp-size --tmpfs --upper --upper-size
  --verbose --workdir -e -h -p -v -w'
# On one line: the checks below look for " OPTION ".
_sbx_run_value_opts=$(echo $_sbx_run_value_opts)

# Capability names for --cap-add/--cap-drop, from the kernel's list.
_sbx_caps () {
  local c names=ALL
  for c in $(capsh --print 2>/dev/null | sed -n 's/^Bounding set =//p' | tr ',' ' '); do
    names="$names ${c#cap_}"
  done
  [[ $names == ALL ]] && names='ALL audit_write chown dac_override fowner fsetid kill mknod
    net_admin net_bind_service net_raw setfcap setgid setpcap setuid sys_admin sys_chroot
    sys_ptrace sys_time'
  echo "$names"
}

# The profiles in $XDG_CONFIG_HOME/sbx (sbx.conf(5)), without ".conf".
_sbx_profiles () {
  local f
  for f in "${XDG_CONFIG_HOME:-$HOME/.config}"/sbx/*.conf; do
    [[ -f $f ]] || continue
    f=${f##*/}
    echo "${f%.conf}"
  done
}

# The names of the named sandboxes (running, stale and stopped).
_sbx_names () {
  "${words[0]}" ps -a 2>/dev/null | awk 'NR > 1 { print $1 }'
}

# The paths a layer holds, for the PATH arguments of diff and apply: the
# changes `sbx diff` lists (names it must quote are left out), absolute,
# and relative to the current directory for those below it.  $@: the
# layer (NAME, or --upper DIR).
_sbx_layer_paths () {
  local line p
  while IFS= read -r line; do
    p=${line#? }
    [[ $p == \"* ]] && continue
    if [[ $cur == /* ]]; then
      printf '%s\n' "$p"
    elif [[ $p == "$PWD"/* ]]; then
      printf '%s\n' "${p#"$PWD"/}"
    fi
  done < <("${words[0]}" diff "$@" 2>/dev/null)
}

# diff and apply: NAME or --upper DIR, then paths of that layer.
_sbx_layer () {
  local start=$1 cmd=$2 i w upper= name= opts
  if [[ $cmd == diff ]]; then
    opts='--color --help --json --lower --patch --stat --upper -h -p'
  else
    opts='--color --dry-run --force --help --interactive --keep --upper -h -i'
  fi
  for ((i = start + 1; i < cword; i++)); do
    w=${words[i]}
    case $w in
      --upper | --lower) ((i++)); [[ $w == --upper ]] && upper=${words[i]} ;;
      --upper=*) upper=${w#--upper=} ;;
      -*) ;;
      *) [[ -z $name ]] && name=$w ;;
    esac
  done
  case $prev in
    --upper | --lower) _filedir -d; return ;;
  esac
  if [[ $cur == --color=* ]]; then
    COMPREPLY=($(compgen -W 'always auto never' -- "${cur#--color=}"))
    return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return
  fi
  if [[ -z $upper && -z $name ]]; then
    COMPREPLY=($(compgen -W "$(_sbx_names)" -- "$cur"))
    return
  fi
  local p
  COMPREPLY=()
  while IFS= read -r p; do
    [[ $p == "$cur"* ]] && COMPREPLY+=("$p")
  done < <(if [[ -n $upper ]]; then _sbx_layer_paths --upper "$upper"; else _sbx_layer_paths "$name"; fi)
  compopt -o filenames 2>/dev/null
}

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
      COMPREPLY=($(compgen -W 'host none slirp' -- "$value"))
      return ;;
    --bind | --ro-bind | --net-log)
      cur=$value _filedir
      return ;;
    --allow-net | --deny-net)
      # The presets; an address or a name is the caller's to type.
      COMPREPLY=($(compgen -W 'host private' -- "$value"))
      return ;;
    --workdir | -w | --tmpfs | --rootfs | --layer | --upper)
      cur=$value _filedir -d
      return ;;
    --overlay)
      COMPREPLY=($(compgen -W 'auto fuse kernel' -- "$value"))
      return ;;
    --profile)
      COMPREPLY=($(compgen -W "$(_sbx_profiles)" -- "$value"))
      return ;;
    --seccomp)
      COMPREPLY=($(compgen -W 'default unconfined' -- "$value"))
      return ;;
    --cap-add | --cap-drop)
      COMPREPLY=($(compgen -W "$(_sbx_caps)" -- "$value"))
      return ;;
    --env | -e)
      compopt -o nospace
      COMPREPLY=($(compgen -e -S = -- "$value"))
      return ;;
    --hostname | --monotonic | --boottime | --name | --mtu | --publish | -p | --cpus | --memory \
      | --pids-limit | --io-weight | --upper-size | --tmp-size | --shm-size)
      return ;;
  esac

  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$_sbx_run_opts" -- "$cur"))
    [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
    return
  fi
  COMPREPLY=($(compgen -c -- "$cur"))
}

_sbx_exec () {
  local start=$1 i w name_seen=
  for ((i = start + 1; i < cword; i++)); do
    w=${words[i]}
    case $w in
      --) _command_offset $((i + 1)); return ;;
      -e | --env | -w | --workdir) ((i++)) ;;
      -*) ;;
      *)
        if [[ -n $name_seen ]]; then _command_offset "$i"; return; fi
        name_seen=1 ;;
    esac
  done
  case $prev in
    -e | --env) compopt -o nospace; COMPREPLY=($(compgen -e -S = -- "$cur")); return ;;
    -w | --workdir) return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W '--clearenv --env --help --no-pty --share-tty --workdir -e -h -t -w' -- "$cur"))
  elif [[ -z $name_seen ]]; then
    COMPREPLY=($(compgen -W "$(_sbx_names)" -- "$cur"))
  else
    COMPREPLY=($(compgen -c -- "$cur"))
  fi
}

_sbx () {
  local cur prev words cword
  _init_completion || return

  local commands='apply diff doctor exec help ps rm run stop' i cmd= cmd_at=0
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
    ps)
      COMPREPLY=($(compgen -W '--all --help --json -a -h' -- "$cur")) ;;
    doctor)
      COMPREPLY=($(compgen -W '--help --json -h' -- "$cur")) ;;
    stop)
      case $prev in
        --time | -t) return ;;
      esac
      if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '--help --time -h -t' -- "$cur"))
      else
        COMPREPLY=($(compgen -W "$(_sbx_names)" -- "$cur"))
      fi ;;
    rm)
      # NAME..., or --upper DIR (a kept layer of run --upper).
      if [[ $prev == --upper ]]; then
        _filedir -d
      elif [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '--force --help --upper -f -h' -- "$cur"))
      else
        COMPREPLY=($(compgen -W "$(_sbx_names)" -- "$cur"))
      fi ;;
    diff | apply)
      _sbx_layer "$cmd_at" "$cmd" ;;
    exec)
      _sbx_exec "$cmd_at" ;;
  esac
}
complete -F _sbx sbx
