# bash completion for labyrinth's programs: labfwd, labblk, labctl, labbench,
# labcheck. Installed once per program name into bash-completion's
# completionsdir (pkg-config bash-completion), where it is loaded on first use.
#
# Options come from each program's own --help (bash-completion's _parse_help),
# so they cannot drift from it; values are completed here: device strings
# (the driver, then its keys, then file names for the keys that take a path),
# modes, levels, and labctl's commands with the pool names of the running
# process.

# The keys of each driver's device string (docs/drivers.md, docs/block.md).
_lab_dev_keys()
{
	case $1 in
	pcap)        echo "rx= tx= iface= loop= timing= multiplier= pps= mbps= limit= tstamp= snaplen=" ;;
	af_packet)   echo "iface= blocksize= blocks= txframes= fanout= qdisc_bypass=" ;;
	af_xdp)      echo "iface= queue= mode= bind=" ;;
	ring)        echo "name= size= loop= stamp= bytes=" ;;
	null)        echo "size=" ;;
	virtio_user) echo "path= server=" ;;
	vhost)       echo "path= client=" ;;
	uring)       echo "path= qd= sqpoll= direct=" ;;
	ram)         echo "size= block=" ;;
	esac
}

# COMPREPLY for device string $1 among drivers $2. ':' and '=' break words
# for readline, so replies are trimmed to what follows the last of them.
_lab_devstring()
{
	local cur=$1 drivers=$2 head key drv trim
	if [[ $cur != *:* ]]; then
		COMPREPLY=($(compgen -W "$drivers" -- "$cur"))
	else
		drv=${cur%%:*}
		head=${cur%"${cur##*[:,]}"}
		key=${cur##*[:,]}
		if [[ $key == *=* ]]; then
			case ${key%%=*} in
			rx|tx|path)
				COMPREPLY=($(compgen -f -- "${key#*=}"))
				COMPREPLY=("${COMPREPLY[@]/#/$head${key%%=*}=}") ;;
			timing)
				COMPREPLY=($(compgen -W "capture fast" -- "${key#*=}"))
				COMPREPLY=("${COMPREPLY[@]/#/$head${key%%=*}=}") ;;
			iface)
				COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" \
					-- "${key#*=}"))
				COMPREPLY=("${COMPREPLY[@]/#/$head${key%%=*}=}") ;;
			esac
		else
			COMPREPLY=($(compgen -P "$head" -W "$(_lab_dev_keys "$drv")" -- "$key"))
		fi
	fi
	trim=${cur%"${cur##*[:=]}"}
	[[ -n $trim ]] && COMPREPLY=("${COMPREPLY[@]#"$trim"}")
	compopt -o nospace 2>/dev/null
}

_labfwd()
{
	local cur prev words cword
	_init_completion -n := || return
	case $prev in
	-p|--port)
		_lab_devstring "$cur" "pcap: af_packet: af_xdp: ring: null: virtio_user: vhost:"
		return ;;
	--mode)          COMPREPLY=($(compgen -W "io macswap l2fwd" -- "$cur")); return ;;
	--quality)       COMPREPLY=($(compgen -W "off sampled full" -- "$cur")); return ;;
	--owners)        COMPREPLY=($(compgen -W "worker queue" -- "$cur")); return ;;
	--ctl)           COMPREPLY=($(compgen -f -W "off" -- "$cur")); return ;;
	--config|--stats-csv) _filedir; return ;;
	-m|--map|-c|--cores|-b|--burst|-d|--duration|-n|--packets|-i|--stats-interval|\
	--csv-interval|--storm|--rx-ring|--tx-ring|--pool-size|--pool-max|--set|--metrics)
		return ;;
	esac
	COMPREPLY=($(compgen -W "$(_parse_help "$1")" -- "$cur"))
}

_labblk()
{
	local cur prev words cword
	_init_completion -n := || return
	case $prev in
	--dev)           _lab_devstring "$cur" "uring: ram:"; return ;;
	--rw|--readwrite)
		COMPREPLY=($(compgen -W "read write randread randwrite rw randrw" -- "$cur"))
		return ;;
	--ioengine)      COMPREPLY=($(compgen -W "labyrinth" -- "$cur")); return ;;
	--direct)        COMPREPLY=(1); return ;;
	--output-format) COMPREPLY=($(compgen -W "normal json json+" -- "$cur")); return ;;
	--filename|--output) _filedir; return ;;
	--name|--rwmixread|--bs|--iodepth|--numjobs|--runtime|--ramp_time|--rate_iops|--size|\
	--seed|--status-interval|--metrics)
		return ;;
	esac
	# A job file is the one word that is not an option.
	if [[ $cur != -* ]]; then
		_filedir
		return
	fi
	COMPREPLY=($(compgen -W "$(_parse_help "$1") --direct= --ioengine=" \
		-- "$cur"))
	[[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
}

# The pool names of the process labctl would talk to.
_lab_pools()
{
	"$1" --json pools 2>/dev/null | grep -o '"name":"[^"]*"' | cut -d'"' -f4
}

_labctl()
{
	local cur prev words cword i cmd= n=0
	_init_completion || return
	case $prev in
	-s|--socket)     _filedir sock; return ;;
	--pool)          COMPREPLY=($(compgen -W "$(_lab_pools "$1")" -- "$cur")); return ;;
	-p|--pid|-n|--count)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_parse_help "$1")" -- "$cur"))
		return
	fi
	# The command and its words so far (options and their values skipped).
	local args=()
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-s|--socket|-p|--pid|-n|--count|--pool) ((i++)) ;;
		-*) ;;
		*) args+=("${words[i]}") ;;
		esac
	done
	case "${args[*]}" in
	"")           COMPREPLY=($(compgen -W "list info pools pool ports set watch metrics raw help" \
				-- "$cur")) ;;
	set)          COMPREPLY=($(compgen -W "quality log" -- "$cur")) ;;
	"set quality") COMPREPLY=($(compgen -W "off sampled full" -- "$cur")) ;;
	"set log")    COMPREPLY=($(compgen -W "err warning notice info debug" -- "$cur")) ;;
	pool)         COMPREPLY=($(compgen -W "$(_lab_pools "$1")" -- "$cur")) ;;
	esac
}

_labbench()
{
	local cur prev words cword
	_init_completion || return
	if ((cword == 1)); then
		COMPREPLY=($(compgen -W "pool ring quality port --help" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "--help" -- "$cur"))
	fi
}

_labcheck()
{
	local cur prev words cword
	_init_completion || return
	case $prev in
	--config)        _filedir; return ;;
	--set|--chambers) return ;;
	esac
	COMPREPLY=($(compgen -W "$(_parse_help "$1")" -- "$cur"))
}

complete -F _labfwd labfwd
complete -F _labblk labblk
complete -F _labctl labctl
complete -F _labbench labbench
complete -F _labcheck labcheck
