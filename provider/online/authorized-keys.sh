#!/bin/bash
# authorized-keys.sh: put a key pair's public key in effect on a running Linux
# instance without a restart (KeyPairAttachment, activation "online").
# Sent as root by Cloud Assistant RunCommand (Type RunShellScript).
#
# Inputs are Cloud Assistant custom parameters (EnableParameter=true), because
# RunCommand has no way to pass environment variables. Cloud Assistant pastes
# each value into this text as it is, so the text never changes (its SHA-256
# names it) and every value is restricted, by the sender
# (provider/online/script.ts) and again below, to characters that have no
# meaning inside single quotes:
#   users       user names [A-Za-z0-9._-], comma-separated; empty means root
#   addKey      Base64 of one public key line "type body [comment]"; empty: none
#   removeKeys  Base64 public key lines, comma-separated; empty: none
# Public keys are data: they travel Base64-encoded and are decoded here into
# variables that are only ever printed, so a comment holding $(...), backticks
# or quotes is written verbatim and runs nothing.
#
# For each user (all users are checked before anything changes):
#   - when there is a key to add, ~/.ssh (0700) and ~/.ssh/authorized_keys
#     (0600) are created, owned by the user, if missing;
#   - the key to add is appended unless a line already holds it;
#   - lines holding a key to remove are dropped (a key that is also the key to
#     add is kept);
#   - every other line is kept byte for byte (a last line without a newline
#     gets one when the file is rewritten).
# Keys are compared by type and Base64 body; options and comments are ignored.
# The file is replaced atomically (temp file in ~/.ssh, then mv) with its mode
# and owner, and only when its content changes.
#
# Output, one line per user on stdout:
#   user=<name> added=<yes|present|none> removed=<count> file=<created|updated|unchanged>
# Exit status: 0 when every user is done; 2 when an input or a user is refused
# (nothing changed, reason on stderr); other non-zero on an unexpected failure.

# Everything below needs bash (4.2 or later: CentOS 7); re-run with it when
# started by sh.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -euo pipefail
export LC_ALL=C
umask 077

users_param='{{users}}'
add_key_param='{{addKey}}'
remove_keys_param='{{removeKeys}}'

fail() {
    printf 'authorized-keys: %s\n' "$*" >&2
    exit 2
}

# A key is "<type> <body>"; the type is one OpenSSH knows by its prefix
# (ssh-rsa, ssh-ed25519, ecdsa-sha2-*, sk-*@openssh.com, certificates).
# key_re groups: 1 type, 3 body. sshd reads a line as a key, or else as
# options (quoted strings may hold blanks and \") followed by a key:
# with opts_re in front, the groups are 3 type, 5 body.
key_re='((ssh|ecdsa|sk)-[A-Za-z0-9@._+-]+)[[:space:]]+([A-Za-z0-9+/]+={0,3})([[:space:]]|$)'
opts_re='([^[:space:]"]|"([^"\\]|\\.)*")+[[:space:]]+'

# key_of_line LINE: set REPLY to the line's "<type> <body>", or return 1 for a
# comment, a blank line or anything sshd would not read as a key.
key_of_line() {
    local line=$1
    line=${line#"${line%%[![:space:]]*}"}
    if [[ -z "$line" || "$line" == \#* ]]; then
        return 1
    elif [[ "$line" =~ ^$key_re ]]; then
        REPLY="${BASH_REMATCH[1]} ${BASH_REMATCH[3]}"
    elif [[ "$line" =~ ^$opts_re$key_re ]]; then
        REPLY="${BASH_REMATCH[3]} ${BASH_REMATCH[5]}"
    else
        return 1
    fi
}

# decode_key BASE64 WHAT: set REPLY to the one public key line it encodes.
# Re-encoding must give the input back: that catches newlines and NUL bytes
# that command substitution would silently drop.
decode_key() {
    local line
    line=$(printf '%s' "$1" | base64 -d 2>/dev/null) || fail "$2 is not valid Base64"
    [[ "$(printf '%s' "$line" | base64 -w 0)" == "$1" && "$line" != *[$'\n\r']* ]] ||
        fail "$2 must be the Base64 of exactly one line"
    [[ "$line" =~ ^$key_re ]] || fail "$2 is not a public key line (type, Base64 body, optional comment)"
    REPLY=$line
}

[[ $EUID -eq 0 ]] || fail "must run as root (Cloud Assistant's default user on Linux)"
[[ "$users_param" =~ ^[A-Za-z0-9._,-]*$ ]] || fail "users must be user names [A-Za-z0-9._-] separated by commas"
[[ "$add_key_param" =~ ^[A-Za-z0-9+/=]*$ ]] || fail "addKey must be Base64"
[[ "$remove_keys_param" =~ ^[A-Za-z0-9+/=,]*$ ]] || fail "removeKeys must be Base64 values separated by commas"

add_line='' add_id=''
if [[ -n "$add_key_param" ]]; then
    decode_key "$add_key_param" addKey
    add_line=$REPLY
    key_of_line "$add_line"
    add_id=$REPLY
fi

declare -A remove_ids=()
if [[ -n "$remove_keys_param" ]]; then
    IFS=, read -r -a remove_params <<<"$remove_keys_param"
    for param in "${remove_params[@]}"; do
        decode_key "$param" "a removeKeys value"
        key_of_line "$REPLY"
        [[ "$REPLY" == "$add_id" ]] || remove_ids[$REPLY]=1
    done
fi

# Check every user before changing anything.
IFS=, read -r -a requested_users <<<"${users_param:-root}"
# (No expansion of an empty array below: bash before 4.4 calls it unbound.)
declare -A seen=()
users=() homes=() owners=()
for user in "${requested_users[@]}"; do
    [[ "$user" =~ ^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}$ ]] || fail "invalid user name '$user'; nothing was changed"
    [[ -z "${seen[$user]+set}" ]] || continue
    seen[$user]=1
    entry=$(getent passwd -- "$user") || fail "user $user does not exist on this instance; nothing was changed"
    IFS=: read -r _ _ uid gid _ home _ <<<"$entry"
    [[ "$home" == /* && -d "$home" ]] || fail "home directory '$home' of user $user does not exist; nothing was changed"
    ssh_dir=$home/.ssh
    if [[ -L "$ssh_dir" || (-e "$ssh_dir" && ! -d "$ssh_dir") ]]; then
        fail "$ssh_dir of user $user is not a directory (symbolic links are refused); nothing was changed"
    fi
    if [[ -L "$ssh_dir/authorized_keys" || (-e "$ssh_dir/authorized_keys" && ! -f "$ssh_dir/authorized_keys") ]]; then
        fail "$ssh_dir/authorized_keys of user $user is not a regular file (symbolic links are refused); nothing was changed"
    fi
    users+=("$user") homes+=("$home") owners+=("$uid:$gid")
done

tmp=''
trap 'if [[ -n "$tmp" ]]; then rm -f -- "$tmp"; fi' EXIT

for i in "${!users[@]}"; do
    ssh_dir=${homes[$i]}/.ssh
    file=$ssh_dir/authorized_keys
    added=none removed=0 result=unchanged
    [[ -z "$add_line" ]] || added=yes

    if [[ ! -e "$file" && -z "$add_line" ]]; then
        printf 'user=%s added=%s removed=%s file=%s\n' "${users[$i]}" "$added" "$removed" "$result"
        continue
    fi
    if [[ ! -d "$ssh_dir" ]]; then
        mkdir -m 0700 -- "$ssh_dir"
        chown -- "${owners[$i]}" "$ssh_dir"
    fi
    if [[ -e "$file" ]]; then
        mode=$(stat -c %a -- "$file") owner=$(stat -c %u:%g -- "$file") result=updated
    else
        mode=600 owner=${owners[$i]} result=created
    fi

    tmp=$(mktemp "$ssh_dir/.authorized_keys.XXXXXX")
    if [[ "$result" == updated ]]; then
        while IFS= read -r line || [[ -n "$line" ]]; do
            if key_of_line "$line"; then
                if [[ -n "${remove_ids[$REPLY]+set}" ]]; then
                    removed=$((removed + 1))
                    continue
                fi
                [[ "$REPLY" != "$add_id" ]] || added=present
            fi
            printf '%s\n' "$line"
        done <"$file" >"$tmp"
    fi
    if [[ "$added" == yes ]]; then
        printf '%s\n' "$add_line" >>"$tmp"
    fi

    if [[ "$result" == updated && "$added" != yes && "$removed" -eq 0 ]]; then
        result=unchanged
        rm -f -- "$tmp"
    else
        chmod -- "$mode" "$tmp"
        chown -- "$owner" "$tmp"
        mv -f -- "$tmp" "$file"
    fi
    tmp=''
    printf 'user=%s added=%s removed=%s file=%s\n' "${users[$i]}" "$added" "$removed" "$result"
done
