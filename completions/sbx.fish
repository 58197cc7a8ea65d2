# SPDX-License-Identifier: GPL-2.0-or-later
# fish completion for sbx

# The words after `sbx run [OPTIONS]`, from the inner command on; empty while
# options are still being typed.
function __sbx_inner_command
    set -l words (commandline -opc) (commandline -ct)
    set -l value_opts --allow-net --bind --boottime --cap-add --cap-drop --cpus --deny-net --env --hostname --io-weight --layer --memory --monotonic --mtu --name --net --net-log --overlay --pids-limit --profile --publish --ro-bind --rootfs --seccomp --shm-size --tmp-size --tmpfs --upper --upper-size --workdir -e -p -w
    set -l i 3
    while test $i -le (count $words)
        set -l w $words[$i]
        if test "$w" = --
            set -e words[1..$i]
            printf '%s\n' $words
            return 0
        else if contains -- $w $value_opts
            set i (math $i + 2)
            continue
        else if not string match -q -- '-*' $w
            set -e words[1..(math $i - 1)]
            if test (count $words) -gt 1
                printf '%s\n' $words
                return 0
            end
            return 1
        end
        set i (math $i + 1)
    end
    return 1
end

function __sbx_complete_inner
    set -l inner (__sbx_inner_command)
    complete -C (string join ' ' -- (string escape -- $inner))
end

function __sbx_in_run_options
    __fish_seen_subcommand_from run; and not __sbx_inner_command >/dev/null
end

complete -c sbx -f
complete -c sbx -n __fish_use_subcommand -s h -l help -d 'Show help'
complete -c sbx -n __fish_use_subcommand -s V -l version -d 'Show the versions'
complete -c sbx -n __fish_use_subcommand -a apply -d "Write a kept layer's changes to the host"
complete -c sbx -n __fish_use_subcommand -a diff -d 'List what a writable layer changed'
complete -c sbx -n __fish_use_subcommand -a doctor -d 'Check what sbx needs from the host'
complete -c sbx -n __fish_use_subcommand -a exec -d 'Run a command in a running named sandbox'
complete -c sbx -n __fish_use_subcommand -a help -d 'Show help for a command'
complete -c sbx -n __fish_use_subcommand -a ps -d 'List named sandboxes'
complete -c sbx -n __fish_use_subcommand -a rm -d 'Delete stopped named sandboxes or a kept layer'
complete -c sbx -n __fish_use_subcommand -a run -d 'Run a command in a new sandbox'
complete -c sbx -n __fish_use_subcommand -a stop -d 'Stop a named sandbox'
complete -c sbx -n '__fish_seen_subcommand_from help' -a 'apply diff doctor exec help ps rm run stop'

function __sbx_caps
    echo ALL
    capsh --print 2>/dev/null | string replace -rf '^Bounding set =' '' | string split , | string replace cap_ ''
end

# The profiles in $XDG_CONFIG_HOME/sbx (sbx.conf(5)), without ".conf".
function __sbx_profiles
    set -l dir ~/.config/sbx
    set -q XDG_CONFIG_HOME[1]; and set dir $XDG_CONFIG_HOME/sbx
    for f in $dir/*.conf
        test -f $f; and string replace -r '^.*/(.*)\.conf$' '$1' -- $f
    end
end

function __sbx_names
    sbx ps -a 2>/dev/null | string match -rv '^NAME ' | string replace -r ' .*' ''
end

# diff and apply: the layer named so far (NAME, or --upper DIR), one word
# a line; nothing while there is none.
function __sbx_layer_args
    set -l words (commandline -opc)
    set -l name
    set -l i 3
    while test $i -le (count $words)
        switch $words[$i]
            case --upper
                set i (math $i + 1)
                printf '%s\n' --upper $words[$i]
                return 0
            case '--upper=*'
                printf '%s\n' --upper (string replace -- --upper= '' $words[$i])
                return 0
            case --lower
                set i (math $i + 1)
            case '-*'
            case '*'
                test -z "$name"; and set name $words[$i]
        end
        set i (math $i + 1)
    end
    test -n "$name"; and printf '%s\n' $name
end

function __sbx_layer_needs_name
    __fish_seen_subcommand_from diff apply; and not __sbx_layer_args >/dev/null
end

# The paths the layer holds (names sbx must quote left out), absolute and,
# below the current directory, relative.
function __sbx_layer_paths
    set -l args (__sbx_layer_args)
    set -q args[1]; or return
    for p in (sbx diff $args 2>/dev/null | string replace -r '^. ' '' | string match -v -- '"*')
        echo $p
        string match -q -- "$PWD/*" $p; and string replace -- "$PWD/" '' $p
    end
end

# ps, stop, rm, diff, apply, exec
complete -c sbx -n '__fish_seen_subcommand_from ps' -s a -l all -d 'Also stopped sandboxes'
complete -c sbx -n '__fish_seen_subcommand_from ps diff doctor' -l json -d 'Print JSON'
complete -c sbx -n '__fish_seen_subcommand_from doctor' -s h -l help -d 'Show help'
complete -c sbx -n '__fish_seen_subcommand_from stop' -s t -l time -x -d 'Grace time (seconds)'
complete -c sbx -n '__fish_seen_subcommand_from rm' -s f -l force -d 'Stop it first'
complete -c sbx -n '__fish_seen_subcommand_from rm' -l upper -x -a '(__fish_complete_directories)' -d 'Delete the kept layer DIR (run --upper)'
complete -c sbx -n '__fish_seen_subcommand_from diff apply' -l upper -x -a '(__fish_complete_directories)' -d 'A writable layer'
complete -c sbx -n '__fish_seen_subcommand_from diff' -l lower -x -a '(__fish_complete_directories)' -d 'A lower layer'
complete -c sbx -n '__fish_seen_subcommand_from diff' -s p -l patch -d 'Show a unified diff'
complete -c sbx -n '__fish_seen_subcommand_from diff' -l stat -d 'Show a diffstat'
complete -c sbx -n '__fish_seen_subcommand_from diff apply' -l color -f -a 'always auto never' -d 'Colour'
complete -c sbx -n '__fish_seen_subcommand_from apply' -l dry-run -d 'Change nothing'
complete -c sbx -n '__fish_seen_subcommand_from apply' -l force -d 'Apply conflicts too'
complete -c sbx -n '__fish_seen_subcommand_from apply' -s i -l interactive -d 'Ask for each change'
complete -c sbx -n '__fish_seen_subcommand_from apply' -l keep -d 'Leave applied changes in the layer'
complete -c sbx -n '__fish_seen_subcommand_from stop rm' -x -a '(__sbx_names)'
complete -c sbx -n __sbx_layer_needs_name -x -a '(__sbx_names)'
complete -c sbx -n '__fish_seen_subcommand_from diff apply; and __sbx_layer_args >/dev/null' -x -a '(__sbx_layer_paths)'
complete -c sbx -n '__fish_seen_subcommand_from exec; and test (count (commandline -opc)) -le 2' -x -a '(__sbx_names)'
complete -c sbx -n '__fish_seen_subcommand_from exec' -l clearenv -d 'Start from an empty environment'
complete -c sbx -n '__fish_seen_subcommand_from exec' -s e -l env -x -d 'Set an environment variable'
complete -c sbx -n '__fish_seen_subcommand_from exec' -l no-pty -d "No pty of the sandbox's own on a terminal"
complete -c sbx -n '__fish_seen_subcommand_from exec' -s t -l share-tty -d "Keep the caller's session"
complete -c sbx -n '__fish_seen_subcommand_from exec' -s w -l workdir -x -d 'Working directory inside'

# sbx run options, sorted
complete -c sbx -n __sbx_in_run_options -l allow-host-loopback -d "Let 10.0.2.2 reach the host's 127.0.0.1"
complete -c sbx -n __sbx_in_run_options -l allow-net -x -a 'host private' -d 'Allow egress only to RULE (CIDR[:PORTS], NAME, *.NAME)'
complete -c sbx -n __sbx_in_run_options -l bind -r -F -d 'Bind a host path in: SRC[:DST][:ro]'
complete -c sbx -n __sbx_in_run_options -l boottime -x -d 'Offset of CLOCK_BOOTTIME (seconds)'
complete -c sbx -n __sbx_in_run_options -l cap-add -x -a '(__sbx_caps)' -d 'Add a capability'
complete -c sbx -n __sbx_in_run_options -l cap-drop -x -a '(__sbx_caps)' -d 'Drop a capability'
complete -c sbx -n __sbx_in_run_options -l clearenv -d 'Start from an empty environment'
complete -c sbx -n __sbx_in_run_options -l cpus -x -d 'CPU time limit, in CPUs (0.5: half of one)'
complete -c sbx -n __sbx_in_run_options -l deny-net -x -a 'host private' -d 'Deny egress to RULE'
complete -c sbx -n __sbx_in_run_options -s e -l env -x -a '(set -n | string replace -r \'$\' =)' -d 'Set an environment variable'
complete -c sbx -n __sbx_in_run_options -s h -l help -d 'Show the options'
complete -c sbx -n __sbx_in_run_options -l hostname -x -d 'Hostname inside'
complete -c sbx -n __sbx_in_run_options -l io-weight -x -d 'IO weight, 1 to 10000'
complete -c sbx -n __sbx_in_run_options -l layer -x -a '(__fish_complete_directories)' -d 'A read-only layer above the rootfs'
complete -c sbx -n __sbx_in_run_options -l map-root -d 'Be uid 0/gid 0 inside'
complete -c sbx -n __sbx_in_run_options -l memory -x -d 'Memory limit (K, M, G suffixes)'
complete -c sbx -n __sbx_in_run_options -l monotonic -x -d 'Offset of CLOCK_MONOTONIC (seconds)'
complete -c sbx -n __sbx_in_run_options -l mtu -x -d 'MTU of tap0'
complete -c sbx -n __sbx_in_run_options -l name -x -d 'A named sandbox'
complete -c sbx -n __sbx_in_run_options -l net -x -a 'host none slirp' -d 'Network'
complete -c sbx -n __sbx_in_run_options -l net-log -r -F -d 'Log connections and DNS answers as JSON lines'
complete -c sbx -n __sbx_in_run_options -l no-ipv6 -d 'No IPv6 on tap0'
complete -c sbx -n __sbx_in_run_options -l no-pty -d "No pty of the sandbox's own on a terminal"
complete -c sbx -n __sbx_in_run_options -l no-subids -d "Map only the caller's own ids"
complete -c sbx -n __sbx_in_run_options -l overlay -x -a 'auto fuse kernel' -d 'Overlay driver'
complete -c sbx -n __sbx_in_run_options -l pids-limit -x -d 'Most tasks at once'
complete -c sbx -n __sbx_in_run_options -l profile -x -a '(__sbx_profiles)' -d 'Defaults from a profile'
complete -c sbx -n __sbx_in_run_options -s p -l publish -x -d 'Forward a host port: [HOSTIP:]HOSTPORT:PORT[/tcp|/udp]'
complete -c sbx -n __sbx_in_run_options -l review -d 'Keep the layer until the command ends, then review and apply it'
complete -c sbx -n __sbx_in_run_options -l ro-bind -r -F -d 'Bind a host path in read-only: SRC[:DST]'
complete -c sbx -n __sbx_in_run_options -l rootfs -x -a '(__fish_complete_directories)' -d 'Lowest layer'
complete -c sbx -n __sbx_in_run_options -l seccomp -x -a 'default unconfined' -d 'System call filter'
complete -c sbx -n __sbx_in_run_options -l share-tty -d "Keep the caller's session"
complete -c sbx -n __sbx_in_run_options -l shm-size -x -d 'Cap of /dev/shm: a size or N% of RAM'
complete -c sbx -n __sbx_in_run_options -l tmp-size -x -d 'Cap of /tmp, /var/tmp, /run: a size or N% of RAM'
complete -c sbx -n __sbx_in_run_options -l tmpfs -x -a '(__fish_complete_directories)' -d 'Mount a fresh tmpfs: DST[:SIZE]'
complete -c sbx -n __sbx_in_run_options -l upper -x -a '(__fish_complete_directories)' -d 'Keep the writable layer in DIR'
complete -c sbx -n __sbx_in_run_options -l upper-size -x -d 'Cap of the throwaway layer: a size or N% of RAM'
complete -c sbx -n __sbx_in_run_options -s v -l verbose -d 'Say what sbx sets up'
complete -c sbx -n __sbx_in_run_options -s w -l workdir -x -a '(__fish_complete_directories)' -d 'Working directory inside'
complete -c sbx -n '__fish_seen_subcommand_from run; and not __sbx_inner_command >/dev/null; and not string match -q -- "-*" (commandline -ct)' -a '(__fish_complete_command)'
complete -c sbx -n '__sbx_inner_command >/dev/null' -x -a '(__sbx_complete_inner)'
