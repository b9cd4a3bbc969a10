//! Outbound address guard: SSRF protection for customer webhooks and carrier polling.
//!
//! Outbound HTTP made on behalf of customers (webhook deliveries) or driven by
//! configuration (carrier poll `base_url`s) must never reach the service's own
//! network: loopback, private ranges, link-local (which includes the cloud
//! metadata endpoint `169.254.169.254`), multicast, and so on. An attacker who
//! can choose a URL will try every spelling of such an address, so this module
//! does two things:
//!
//! 1. [`parse_url`] reads the host of an `http(s)` URL **the way a WHATWG URL
//!    parser (browsers, most HTTP clients) reads it**, so that alternative
//!    spellings such as `127.1`, `2130706433`, `0x7f000001`, `017700000001`,
//!    `0177.0.0.1` or `%31%32%37.0.0.1` are recognised as the IPv4 address
//!    they denote instead of being treated as domain names.
//! 2. [`refused`] / [`check_all`] judge every address a host resolves to
//!    against one deny table ([`DENIED`]), looking through IPv4-mapped and
//!    IPv4-compatible IPv6 addresses (and, as our own addition, NAT64 and 6to4
//!    addresses) to the IPv4 address they embed.
//!
//! The caller registers a URL only if its host resolves and every address
//! passes, and re-checks the resolved addresses on every connection
//! (connecting only to an address that was checked), which defeats DNS
//! rebinding. The operator setting `webhook_allow_cidrs` becomes the `allow`
//! list passed here and exempts whole ranges (e.g. `127.0.0.0/8` on a test
//! bench).
//!
//! # WHATWG rules implemented by [`parse_url`]
//!
//! * Leading and trailing C0 controls and spaces are trimmed, and ASCII tab,
//!   LF and CR are removed anywhere in the input.
//! * The scheme is matched case-insensitively; only `http` and `https` pass.
//!   `/` and `\` are equivalent (as for all WHATWG "special" schemes), and the
//!   authority ends at the first `/`, `\`, `?` or `#`.
//! * The host is percent-decoded, then must be ASCII (we do not implement
//!   IDNA, so non-ASCII hosts are refused rather than guessed at), is
//!   lower-cased, and must not contain a *forbidden domain code point*.
//! * A host that *ends in a number* (its last dot-separated label, ignoring
//!   one trailing dot, is all decimal digits or a valid `0x` hex number) is
//!   parsed by the WHATWG IPv4 parser: 1 to 4 parts, each decimal, `0x`/`0X`
//!   hex or leading-`0` octal; all parts but the last must be ≤ 255 and the
//!   last fills the remaining bytes. If that fails the URL is invalid — such
//!   a host is never treated as a domain name.
//! * A bracketed host is an IPv6 literal; zone identifiers (`%eth0`) are
//!   refused.
//! * The port is digits only; an empty port means the scheme default.
//!
//! Deliberate deviations, all in the direction of refusing more:
//! userinfo (`user:pw@`) is refused instead of stripped; exactly two slashes
//! must follow the scheme (so `http:///host` and `http:host` are refused);
//! port 0 is refused; domains must also follow DNS length rules (≤ 253
//! characters, labels 1–63 characters). Dot segments in the path are not
//! normalised; the path and query are only percent-encoded so that they are
//! safe to put on an HTTP request line.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The scheme of an outbound URL. Only plain HTTP and HTTPS are supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    /// The port used when the URL does not name one: 80 or 443.
    #[must_use]
    pub const fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// The scheme as written in a URL, lower-case.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// The host of an outbound URL: a literal IP address, or a domain name that
/// still has to be resolved (and its addresses checked with [`check_all`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    /// An ASCII, lower-cased domain name (a trailing dot is kept if given).
    Domain(String),
}

impl fmt::Display for Host {
    /// The host as it would appear in a URL (IPv6 addresses in brackets).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(IpAddr::V4(ip)) => write!(f, "{ip}"),
            Host::Domain(name) => f.write_str(name),
        }
    }
}

/// A parsed outbound URL: scheme, host, port, and the path+query to request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub scheme: Scheme,
    pub host: Host,
    /// The explicit port, or the scheme's default.
    pub port: u16,
    /// Everything from the first `/` or `?` after the authority, without the
    /// fragment, percent-encoded so it is safe on a request line; at least `/`.
    pub path_and_query: String,
}

/// Parses an absolute `http(s)` URL, reading its host the way WHATWG URL
/// parsing does (see the module documentation for the exact rules).
///
/// # Errors
///
/// A message fit to show the user who supplied the URL, such as
/// "the URL's host is not a valid IPv4 address".
pub fn parse_url(url: &str) -> Result<Target, String> {
    // WHATWG: trim leading/trailing C0 control or space, drop tab/newline.
    let trimmed = url.trim_matches(|c: char| c <= ' ');
    let input: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    if input.is_empty() {
        return Err("the URL is empty".to_string());
    }

    let (scheme, rest) = split_scheme(&input)?;

    // Exactly two slashes (`/` and `\` are interchangeable for http(s)).
    let is_slash = |c: char| c == '/' || c == '\\';
    let rest = rest
        .strip_prefix(is_slash)
        .and_then(|r| r.strip_prefix(is_slash))
        .ok_or_else(|| {
            format!(
                "the URL must start with {}:// followed by a host",
                scheme.as_str()
            )
        })?;

    // The authority runs up to the first `/`, `\`, `?` or `#`.
    let end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);

    if authority.contains('@') {
        return Err("the URL must not contain a user name or password".to_string());
    }

    let (host, port_text) = split_host_port(authority)?;
    let port = parse_port(port_text, scheme)?;
    let path_and_query = encode_path_and_query(tail);

    Ok(Target {
        scheme,
        host,
        port,
        path_and_query,
    })
}

/// Splits `scheme:rest`, accepting only `http` and `https` (any case).
fn split_scheme(input: &str) -> Result<(Scheme, &str), String> {
    let not_absolute = || "the URL must be absolute, starting with http:// or https://".to_string();
    let (name, rest) = input.split_once(':').ok_or_else(not_absolute)?;
    let mut chars = name.chars();
    let valid_name = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_name {
        return Err(not_absolute());
    }
    let scheme = if name.eq_ignore_ascii_case("http") {
        Scheme::Http
    } else if name.eq_ignore_ascii_case("https") {
        Scheme::Https
    } else {
        return Err(format!(
            "the URL's scheme {:?} is not allowed; only http and https are",
            shorten(name)
        ));
    };
    Ok((scheme, rest))
}

/// Splits the authority (already known to have no userinfo) into a host and
/// the text after the port separator `:`, if any.
fn split_host_port(authority: &str) -> Result<(Host, Option<&str>), String> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let close = bracketed
            .find(']')
            .ok_or("the URL's IPv6 host is missing its closing ']'")?;
        let (inner, after) = (&bracketed[..close], &bracketed[close + 1..]);
        let ip = parse_ipv6_literal(inner)?;
        let port = if after.is_empty() {
            None
        } else if let Some(port) = after.strip_prefix(':') {
            Some(port)
        } else {
            return Err("the URL has unexpected text after its IPv6 host".to_string());
        };
        return Ok((Host::Ip(IpAddr::V6(ip)), port));
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    Ok((parse_host(host)?, port))
}

/// Parses the inside of `[...]`.
fn parse_ipv6_literal(inner: &str) -> Result<Ipv6Addr, String> {
    if inner.contains('%') {
        return Err("the URL's IPv6 host must not have a zone identifier (%...)".to_string());
    }
    inner
        .parse::<Ipv6Addr>()
        .map_err(|_| "the URL's host is not a valid IPv6 address".to_string())
}

/// The WHATWG host parser for special schemes, minus IDNA (non-ASCII refused).
fn parse_host(raw: &str) -> Result<Host, String> {
    if raw.is_empty() {
        return Err("the URL has no host".to_string());
    }
    let decoded = percent_decode(raw.as_bytes());
    if !decoded.is_ascii() {
        return Err(
            "the URL's host contains non-ASCII characters; internationalised \
                    domain names (IDNA) are not supported, use the xn-- (punycode) form"
                .to_string(),
        );
    }
    // ASCII bytes map one-to-one onto chars.
    let mut host: String = decoded.iter().map(|&b| char::from(b)).collect();
    host.make_ascii_lowercase();

    if let Some(c) = host.chars().find(|&c| is_forbidden_domain_code_point(c)) {
        return Err(format!(
            "the URL's host contains {c:?}, which is not allowed in a host name"
        ));
    }
    if ends_in_number(&host) {
        return parse_ipv4(&host)
            .map(|ip| Host::Ip(IpAddr::V4(ip)))
            .ok_or_else(|| "the URL's host is not a valid IPv4 address".to_string());
    }
    check_domain(&host)?;
    Ok(Host::Domain(host))
}

/// WHATWG "forbidden domain code point": the forbidden host code points plus
/// C0 controls, `%` and DEL.
fn is_forbidden_domain_code_point(c: char) -> bool {
    matches!(
        c,
        '\0'..='\u{1f}'
            | ' '
            | '#'
            | '%'
            | '/'
            | ':'
            | '<'
            | '>'
            | '?'
            | '@'
            | '['
            | '\\'
            | ']'
            | '^'
            | '|'
            | '\u{7f}'
    )
}

/// DNS shape rules for a domain (beyond WHATWG, which accepts empty labels).
fn check_domain(host: &str) -> Result<(), String> {
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.is_empty() {
        return Err("the URL has no host".to_string());
    }
    if name.len() > 253 {
        return Err("the URL's host name is longer than 253 characters".to_string());
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("the URL's host name has an empty label (\"..\")".to_string());
        }
        if label.len() > 63 {
            return Err("the URL's host name has a label longer than 63 characters".to_string());
        }
    }
    Ok(())
}

/// WHATWG "ends in a number" checker.
fn ends_in_number(host: &str) -> bool {
    let mut parts: Vec<&str> = host.split('.').collect();
    if parts.last() == Some(&"") {
        if parts.len() == 1 {
            return false;
        }
        parts.pop();
    }
    let last = parts.last().copied().unwrap_or("");
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    parse_ipv4_number(last).is_some()
}

/// WHATWG IPv4 parser. `None` means failure (the URL is invalid).
fn parse_ipv4(host: &str) -> Option<Ipv4Addr> {
    let mut parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop(); // one trailing dot is allowed
    }
    if parts.len() > 4 {
        return None;
    }
    let numbers = parts
        .iter()
        .map(|part| parse_ipv4_number(part))
        .collect::<Option<Vec<u64>>>()?;
    let (&last, init) = numbers.split_last()?;
    if init.iter().any(|&n| n > 255) {
        return None;
    }
    // The last number fills the bytes the others did not: < 256^(5 - count).
    if last >= 1u64 << (8 * (5 - numbers.len())) {
        return None;
    }
    let mut value = last;
    for (i, &n) in init.iter().enumerate() {
        value += n << (8 * (3 - i));
    }
    u32::try_from(value).ok().map(Ipv4Addr::from)
}

/// WHATWG IPv4 number parser: decimal, `0x`/`0X` hex (`0x` alone is 0) or
/// leading-`0` octal. Values saturate at `u64::MAX`, which every caller
/// treats as out of range anyway.
fn parse_ipv4_number(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let (digits, radix) =
        if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            (hex, 16)
        } else if text.len() >= 2 && text.starts_with('0') {
            (&text[1..], 8)
        } else {
            (text, 10)
        };
    let mut value: u64 = 0;
    for b in digits.bytes() {
        let digit = char::from(b).to_digit(radix)?;
        value = value
            .saturating_mul(u64::from(radix))
            .saturating_add(u64::from(digit));
    }
    Some(value)
}

/// The port after `:`: digits only, 1..=65535; absent or empty means the
/// scheme default (WHATWG treats `http://h:/` like `http://h/`).
fn parse_port(text: Option<&str>, scheme: Scheme) -> Result<u16, String> {
    let bad = || "the URL's port must be a number from 1 to 65535".to_string();
    let text = match text {
        None | Some("") => return Ok(scheme.default_port()),
        Some(text) => text,
    };
    let mut value: u32 = 0;
    for b in text.bytes() {
        if !b.is_ascii_digit() {
            return Err(bad());
        }
        value = value * 10 + u32::from(b - b'0');
        if value > u32::from(u16::MAX) {
            return Err(bad());
        }
    }
    match u16::try_from(value) {
        Ok(0) | Err(_) => Err(bad()),
        Ok(port) => Ok(port),
    }
}

/// Decodes `%XX` sequences; a `%` not followed by two hex digits stays as is.
fn percent_decode(input: &[u8]) -> Vec<u8> {
    let hex = |b: Option<&u8>| {
        b.and_then(|&b| char::from(b).to_digit(16))
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let byte = input[i];
        if let (b'%', Some(hi), Some(lo)) = (byte, hex(input.get(i + 1)), hex(input.get(i + 2))) {
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(byte);
            i += 1;
        }
    }
    out
}

/// Turns the text after the authority into the request target: fragment
/// dropped, `\` in the path read as `/` (WHATWG, special schemes), bytes that
/// may not appear on a request line percent-encoded, empty path → `/`.
fn encode_path_and_query(tail: &str) -> String {
    let tail = tail.split_once('#').map_or(tail, |(before, _)| before);
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    let mut out = String::with_capacity(tail.len() + 1);
    if path.is_empty() {
        out.push('/');
    }
    for &b in path.as_bytes() {
        match b {
            b'\\' => out.push('/'),
            // WHATWG path percent-encode set (`#` and `?` cannot occur here).
            b'"' | b'<' | b'>' | b'`' | b'{' | b'}' => push_percent_encoded(&mut out, b),
            _ if b <= b' ' || b >= 0x7f => push_percent_encoded(&mut out, b),
            _ => out.push(char::from(b)),
        }
    }
    if let Some(query) = query {
        out.push('?');
        for &b in query.as_bytes() {
            match b {
                // WHATWG special-query percent-encode set.
                b'"' | b'<' | b'>' | b'\'' => push_percent_encoded(&mut out, b),
                _ if b <= b' ' || b >= 0x7f => push_percent_encoded(&mut out, b),
                _ => out.push(char::from(b)),
            }
        }
    }
    out
}

fn push_percent_encoded(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 0x0f)]));
}

/// Shortens user text quoted in an error message.
fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// An IPv4 or IPv6 network in CIDR notation (`127.0.0.0/8`, `::1/128`; a bare
/// address means /32 or /128). The address is always the network address:
/// [`Cidr::parse`] refuses host bits beyond the prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// For the constant table; `prefix` must be ≤ 32 and the address masked.
    const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Cidr {
        Cidr {
            network: IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
            prefix,
        }
    }

    /// For the constant table; only the first segment is non-zero in ours.
    const fn v6(first_segment: u16, last_segment: u16, prefix: u8) -> Cidr {
        let ip = Ipv6Addr::new(first_segment, 0, 0, 0, 0, 0, 0, last_segment);
        Cidr {
            network: IpAddr::V6(ip),
            prefix,
        }
    }

    /// Parses `address/prefix` or a bare address. Surrounding whitespace is
    /// ignored. Host bits set beyond the prefix (`10.0.0.1/8`) are an error
    /// that suggests the intended network.
    ///
    /// # Errors
    ///
    /// A message naming the bad text, fit for a configuration error.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text.parse().map_err(|_| {
            format!(
                "{:?} is not an IP address or CIDR network (such as 10.0.0.0/8 or fd00::/8)",
                shorten(text)
            )
        })?;
        let max = max_prefix(addr);
        let prefix = match prefix_text {
            None => max,
            Some(p) => {
                let valid = !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit());
                match p.parse::<u8>() {
                    Ok(n) if valid && n <= max => n,
                    _ => {
                        return Err(format!(
                            "{:?} has an invalid prefix length; it must be a number from 0 to {max}",
                            shorten(text)
                        ));
                    }
                }
            }
        };
        let network = masked(addr, prefix);
        if network != addr {
            return Err(format!(
                "{text} has address bits set beyond its /{prefix} prefix; did you mean {network}/{prefix}?"
            ));
        }
        Ok(Cidr { network, prefix })
    }

    /// Whether `ip` lies in this network. An IPv4 network never contains an
    /// IPv6 address (nor the reverse); see [`refused`] for IPv4-mapped ones.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                masked(ip, self.prefix) == self.network
            }
            _ => false,
        }
    }

    /// The network address.
    #[must_use]
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The prefix length in bits.
    #[must_use]
    pub fn prefix_len(&self) -> u8 {
        self.prefix
    }
}

impl fmt::Display for Cidr {
    /// Canonical `network/prefix` text, which [`Cidr::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn max_prefix(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// `ip` with every bit after the first `prefix` bits cleared.
fn masked(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

/// The ranges outbound requests may never reach (exactly the contract's list),
/// each with the reason shown to users.
pub const DENIED: &[(Cidr, &str)] = &[
    (Cidr::v4(0, 0, 0, 0, 8), "\"this network\""),
    (Cidr::v4(127, 0, 0, 0, 8), "loopback"),
    (Cidr::v4(10, 0, 0, 0, 8), "private"),
    (
        Cidr::v4(100, 64, 0, 0, 10),
        "shared address space (carrier-grade NAT)",
    ),
    (
        Cidr::v4(169, 254, 0, 0, 16),
        "link-local (includes cloud metadata)",
    ),
    (Cidr::v4(172, 16, 0, 0, 12), "private"),
    (Cidr::v4(192, 168, 0, 0, 16), "private"),
    (
        Cidr::v4(224, 0, 0, 0, 3),
        "multicast, reserved or broadcast",
    ),
    (Cidr::v6(0, 0, 128), "unspecified"),
    (Cidr::v6(0, 1, 128), "loopback"),
    (Cidr::v6(0xfc00, 0, 7), "unique local"),
    (Cidr::v6(0xfe80, 0, 10), "link-local"),
    (Cidr::v6(0xff00, 0, 8), "multicast"),
];

/// The deny-table entry containing `ip`, as `"reason (network)"`.
fn denied_range(ip: IpAddr) -> Option<String> {
    DENIED
        .iter()
        .find(|(net, _)| net.contains(ip))
        .map(|(net, reason)| format!("{reason} ({net})"))
}

/// The IPv4 address an IPv6 address stands for, with what kind of embedding
/// it is. IPv4-mapped and IPv4-compatible are the contract's rules.
///
/// Our choice beyond the contract: the NAT64 well-known prefix `64:ff9b::/96`
/// (RFC 6052) and 6to4 `2002::/16` (RFC 3056) also embed an IPv4 address that a
/// gateway on the path may deliver to, so they are judged by it as well.
fn embedded_ipv4(ip: Ipv6Addr) -> Option<(&'static str, Ipv4Addr)> {
    let s = ip.segments();
    let o = ip.octets();
    let low32 = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(("IPv4-mapped", low32)),
        // `::` and `::1` are in the deny table themselves and found first.
        [0, 0, 0, 0, 0, 0, _, _] => Some(("IPv4-compatible", low32)),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(("NAT64", low32)),
        [0x2002, ..] => Some(("6to4", Ipv4Addr::new(o[2], o[3], o[4], o[5]))),
        _ => None,
    }
}

/// Whether the operator's allow list exempts `ip`. An IPv4-mapped address is
/// the IPv4 address itself on a dual-stack socket, so an IPv4 allow entry
/// covers it too; the other embeddings reach a different host (a gateway) and
/// need an IPv6 allow entry of their own.
fn allowed(ip: IpAddr, allow: &[Cidr]) -> bool {
    let mapped = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
        IpAddr::V4(_) => None,
    };
    allow
        .iter()
        .any(|net| net.contains(ip) || mapped.is_some_and(|v4| net.contains(v4)))
}

/// Why an address is refused — `Some("loopback (127.0.0.0/8)")`-style text
/// naming the range — or `None` if outbound requests may reach it.
///
/// An address inside any `allow` network is allowed whatever it is.
/// IPv6 addresses embedding an IPv4 address (see `embedded_ipv4`) are refused
/// if the embedded address is.
#[must_use]
pub fn refused(ip: IpAddr, allow: &[Cidr]) -> Option<String> {
    if allowed(ip, allow) {
        return None;
    }
    if let Some(reason) = denied_range(ip) {
        return Some(reason);
    }
    let IpAddr::V6(v6) = ip else { return None };
    let (kind, v4) = embedded_ipv4(v6)?;
    let reason = denied_range(IpAddr::V4(v4))?;
    Some(format!("{kind} address of {v4}, which is {reason}"))
}

/// Checks every address `host` resolved to. `Err` names the first refused
/// address and why, or says the host does not resolve if `addrs` is empty.
///
/// # Errors
///
/// A message fit to show the user, e.g. "example.com resolves to 10.0.0.7,
/// which is not an allowed destination: private (10.0.0.0/8)".
pub fn check_all(host: &str, addrs: &[IpAddr], allow: &[Cidr]) -> Result<(), String> {
    if addrs.is_empty() {
        return Err(format!("{} does not resolve to any address", shorten(host)));
    }
    for &ip in addrs {
        if let Some(reason) = refused(ip, allow) {
            let literal = host.trim_start_matches('[').trim_end_matches(']');
            return Err(if literal.parse::<IpAddr>() == Ok(ip) {
                format!("{ip} is not an allowed destination: {reason}")
            } else {
                format!(
                    "{} resolves to {ip}, which is not an allowed destination: {reason}",
                    shorten(host)
                )
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    fn cidr(text: &str) -> Cidr {
        Cidr::parse(text).expect("test network")
    }

    /// Parses `url` and returns its literal IP host.
    fn host_ip(url: &str) -> IpAddr {
        match parse_url(url) {
            Ok(Target {
                host: Host::Ip(addr),
                ..
            }) => addr,
            other => panic!("{url}: expected an IP host, got {other:?}"),
        }
    }

    #[test]
    fn ipv4_spellings_of_special_addresses_parse_and_are_refused() {
        let cases = [
            ("http://127.0.0.1/", "127.0.0.1"),
            ("http://127.1/", "127.0.0.1"),
            ("http://127.0.1/", "127.0.0.1"),
            ("http://2130706433/", "127.0.0.1"),
            ("http://0x7f000001/", "127.0.0.1"),
            ("http://0x7F.0.0.1/", "127.0.0.1"),
            ("http://0X7f.1/", "127.0.0.1"),
            ("http://017700000001/", "127.0.0.1"),
            ("http://0177.0.0.1/", "127.0.0.1"),
            ("http://0177.0.0.01/", "127.0.0.1"),
            ("http://127.0.0.1./", "127.0.0.1"),
            ("http://127.000.000.001/", "127.0.0.1"),
            ("http://%31%32%37.0.0.1/", "127.0.0.1"),
            ("http://127%2e0%2e0%2e1/", "127.0.0.1"),
            ("http://127.255.1/", "127.255.0.1"),
            ("https://127.0.0.1:8443/x", "127.0.0.1"),
            ("http://0/", "0.0.0.0"),
            ("http://0x/", "0.0.0.0"),
            ("http://0.0.0.0/", "0.0.0.0"),
            ("http://10.1.2.3/", "10.1.2.3"),
            ("http://10.0.0.1/", "10.0.0.1"),
            ("http://172.16.0.1/", "172.16.0.1"),
            ("http://172.20.5.5/", "172.20.5.5"),
            ("http://172.31.255.255/", "172.31.255.255"),
            ("http://192.168.1.1/", "192.168.1.1"),
            (
                "http://169.254.169.254/latest/meta-data/",
                "169.254.169.254",
            ),
            ("http://100.64.0.1/", "100.64.0.1"),
            ("http://224.0.0.1/", "224.0.0.1"),
            ("http://240.0.0.1/", "240.0.0.1"),
            ("http://255.255.255.255/", "255.255.255.255"),
            ("http://[::1]/", "::1"),
            ("http://[0:0:0:0:0:0:0:1]/", "::1"),
            ("http://[::]/", "::"),
            ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
            ("http://[::ffff:7f00:1]/", "::ffff:127.0.0.1"),
            ("http://[::127.0.0.1]/", "::127.0.0.1"),
            ("http://[::ffff:169.254.169.254]/", "::ffff:169.254.169.254"),
            ("http://[fe80::1]/", "fe80::1"),
            ("http://[fc00::1]/", "fc00::1"),
            ("http://[fd12:3456::1]/", "fd12:3456::1"),
            ("http://[ff02::1]/", "ff02::1"),
            ("http://[64:ff9b::7f00:1]/", "64:ff9b::7f00:1"),
            ("http://[2002:7f00:1::]/", "2002:7f00:1::"),
            ("http://[2002:a00:1::]/", "2002:a00:1::"),
        ];
        for (url, expected) in cases {
            let addr = host_ip(url);
            assert_eq!(addr, ip(expected), "{url}");
            assert!(
                refused(addr, &[]).is_some(),
                "{url} ({addr}) must be refused"
            );
            assert!(check_all("h", &[addr], &[]).is_err(), "{url}");
        }
    }

    #[test]
    fn scheme_is_case_insensitive_and_localhost_is_a_domain() {
        let target = parse_url("HTTP://LOCALHOST/").expect("valid");
        assert_eq!(target.scheme, Scheme::Http);
        assert_eq!(target.host, Host::Domain("localhost".to_string()));
        let target = parse_url("HtTpS://Example.COM./A").expect("valid");
        assert_eq!(target.scheme, Scheme::Https);
        assert_eq!(target.host, Host::Domain("example.com.".to_string()));
        assert_eq!(target.path_and_query, "/A");
    }

    #[test]
    fn refusal_reasons_name_the_range() {
        assert_eq!(
            refused(ip("127.0.0.1"), &[]).as_deref(),
            Some("loopback (127.0.0.0/8)")
        );
        assert_eq!(
            refused(ip("::1"), &[]).as_deref(),
            Some("loopback (::1/128)")
        );
        assert_eq!(
            refused(ip("169.254.169.254"), &[]).as_deref(),
            Some("link-local (includes cloud metadata) (169.254.0.0/16)")
        );
        assert_eq!(
            refused(ip("::ffff:10.0.0.1"), &[]).as_deref(),
            Some("IPv4-mapped address of 10.0.0.1, which is private (10.0.0.0/8)")
        );
        assert_eq!(
            refused(ip("64:ff9b::a9fe:a9fe"), &[]).as_deref(),
            Some(
                "NAT64 address of 169.254.169.254, which is link-local (includes cloud metadata) (169.254.0.0/16)"
            )
        );
        let six_to_four = refused(ip("2002:c0a8:101::1"), &[]).expect("refused");
        assert!(
            six_to_four.starts_with("6to4 address of 192.168.1.1"),
            "{six_to_four}"
        );
        let compat = refused(ip("::2"), &[]).expect("refused");
        assert!(
            compat.starts_with("IPv4-compatible address of 0.0.0.2"),
            "{compat}"
        );
    }

    #[test]
    fn range_boundaries() {
        let refused_ips = [
            "0.255.255.255",
            "127.255.255.255",
            "10.255.255.255",
            "100.64.0.0",
            "100.127.255.255",
            "169.254.0.0",
            "169.254.255.255",
            "172.16.0.0",
            "192.168.255.255",
            "224.0.0.0",
            "fc00::",
            "fdff:ffff::1",
            "fe80::",
            "febf:ffff::1",
            "ff00::",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        ];
        for text in refused_ips {
            assert!(refused(ip(text), &[]).is_some(), "{text} must be refused");
        }
        let allowed_ips = [
            "1.0.0.0",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "223.255.255.255",
            "::2:0:0",
            "fbff:ffff::1",
            "fec0::1",
            "::ffff:8.8.8.8",
            "::8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "64:ff9b:1::7f00:1",
        ];
        for text in allowed_ips {
            assert_eq!(refused(ip(text), &[]), None, "{text} must be allowed");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        let cases = [
            ("http://93.184.216.34/", "93.184.216.34"),
            ("http://8.8.8.8/", "8.8.8.8"),
            ("http://1.1.1.1/", "1.1.1.1"),
            ("http://[2606:4700:4700::1111]/", "2606:4700:4700::1111"),
            ("http://172.32.0.1/", "172.32.0.1"),
            ("http://100.128.0.1/", "100.128.0.1"),
            ("http://192.169.0.1/", "192.169.0.1"),
            ("http://11.0.0.1/", "11.0.0.1"),
            ("http://0x08080808/", "8.8.8.8"),
        ];
        for (url, expected) in cases {
            let addr = host_ip(url);
            assert_eq!(addr, ip(expected), "{url}");
            assert_eq!(refused(addr, &[]), None, "{url} must be allowed");
        }
        let all: Vec<IpAddr> = cases.iter().map(|(_, a)| ip(a)).collect();
        assert_eq!(check_all("example.com", &all, &[]), Ok(()));
    }

    #[test]
    fn allow_list_exempts_only_its_ranges() {
        let allow = [cidr("127.0.0.0/8")];
        assert_eq!(refused(ip("127.0.0.1"), &allow), None);
        assert_eq!(refused(ip("127.8.9.10"), &allow), None);
        assert_eq!(
            refused(ip("::ffff:127.0.0.1"), &allow),
            None,
            "mapped = same host"
        );
        assert!(refused(ip("10.0.0.1"), &allow).is_some());
        assert!(refused(ip("::1"), &allow).is_some());
        assert!(refused(ip("::127.0.0.1"), &allow).is_some());
        assert!(refused(ip("64:ff9b::7f00:1"), &allow).is_some());
        assert_eq!(check_all("localhost", &[ip("127.0.0.1")], &allow), Ok(()));
        assert!(check_all("localhost", &[ip("127.0.0.1"), ip("::1")], &allow).is_err());

        let allow_v6 = [cidr("::1")];
        assert_eq!(refused(ip("::1"), &allow_v6), None);
        assert!(refused(ip("127.0.0.1"), &allow_v6).is_some());
    }

    #[test]
    fn check_all_messages() {
        let err = check_all("nowhere.invalid", &[], &[]).expect_err("empty");
        assert!(err.contains("does not resolve"), "{err}");
        let err = check_all("mixed.example", &[ip("8.8.8.8"), ip("10.0.0.7")], &[])
            .expect_err("one private address taints the host");
        assert_eq!(
            err,
            "mixed.example resolves to 10.0.0.7, which is not an allowed destination: private (10.0.0.0/8)"
        );
        let err = check_all("[::1]", &[ip("::1")], &[]).expect_err("loopback");
        assert_eq!(err, "::1 is not an allowed destination: loopback (::1/128)");
    }

    #[test]
    fn parse_url_errors() {
        let cases = [
            ("ftp://x/", "scheme"),
            ("javascript:alert(1)", "scheme"),
            ("http://user:pw@example.com/", "user name or password"),
            ("http://a@b/", "user name or password"),
            ("http://256.0.0.1/", "IPv4"),
            ("http://0x100000000/", "IPv4"),
            ("http://4294967296/", "IPv4"),
            ("http://1.2.3.4.5/", "IPv4"),
            ("http://1.2.3.256/", "IPv4"),
            ("http://1.2.65536/", "IPv4"),
            ("http://1..2/", "IPv4"),
            ("http://example.1/", "IPv4"),
            ("http://foo.0x/", "IPv4"),
            ("http://09.0.0.1/", "IPv4"),
            ("http://0xg.1/", "IPv4"),
            ("http://example.com:99999/", "port"),
            ("http://example.com:0/", "port"),
            ("http://example.com:8o/", "port"),
            ("http://example.com:-1/", "port"),
            ("http://example.com:+80/", "port"),
            ("http://[::1]:0/", "port"),
            ("http:///nohost", "no host"),
            ("http://1.2.3.4../", "empty label"),
            ("http:/x/", "http://"),
            ("http:x", "http://"),
            ("http://", "no host"),
            ("http://:80/", "no host"),
            ("http://[::1%25eth0]/", "zone"),
            ("http://[fe80::1%eth0]/", "zone"),
            ("http://[::1/", "closing"),
            ("http://[::1]x/", "unexpected"),
            ("http://[1.2.3.4]/", "IPv6"),
            ("http://[]/", "IPv6"),
            ("http://exa mple.com/", "not allowed in a host"),
            ("http://exa%20mple.com/", "not allowed in a host"),
            ("http://ex%2541mple.com/", "not allowed in a host"),
            ("http://a<b/", "not allowed in a host"),
            ("http://a]/", "not allowed in a host"),
            ("http://bücher.de/", "IDNA"),
            ("http://b%C3%BCcher.de/", "IDNA"),
            ("http://127。0。0。1/", "IDNA"),
            ("http://a..b/", "empty label"),
            ("http://./", "no host"),
            ("", "empty"),
            ("example.com", "absolute"),
            ("//example.com/", "absolute"),
            ("1http://x/", "absolute"),
        ];
        for (url, fragment) in cases {
            match parse_url(url) {
                Err(message) => {
                    assert!(
                        message.contains(fragment),
                        "{url:?}: {message:?} lacks {fragment:?}"
                    )
                }
                Ok(target) => panic!("{url:?} must be refused, parsed as {target:?}"),
            }
        }
        let long_label = format!("http://{}.com/", "a".repeat(64));
        assert!(parse_url(&long_label).expect_err("label").contains("63"));
        let long_name = format!("http://{}com/", "abcdefghi.".repeat(26));
        assert!(parse_url(&long_name).expect_err("name").contains("253"));
    }

    #[test]
    fn parse_url_fields() {
        let t = parse_url("http://h:8080/a/b?c=d#frag").expect("valid");
        assert_eq!(
            t,
            Target {
                scheme: Scheme::Http,
                host: Host::Domain("h".to_string()),
                port: 8080,
                path_and_query: "/a/b?c=d".to_string(),
            }
        );
        let t = parse_url("http://h").expect("valid");
        assert_eq!((t.port, t.path_and_query.as_str()), (80, "/"));
        let t = parse_url("https://h").expect("valid");
        assert_eq!(
            (t.scheme, t.port, t.path_and_query.as_str()),
            (Scheme::Https, 443, "/")
        );
        let t = parse_url("https://h:/x").expect("empty port means default");
        assert_eq!(t.port, 443);
        let t = parse_url("https://h:0443/x").expect("leading zeros are fine");
        assert_eq!(t.port, 443);
        let t = parse_url("http://h:65535?q=1").expect("valid");
        assert_eq!((t.port, t.path_and_query.as_str()), (65535, "/?q=1"));
        let t = parse_url("http://h#only-fragment").expect("valid");
        assert_eq!(t.path_and_query, "/");
        let t = parse_url("http://[::1]:8080/x").expect("valid");
        assert_eq!((t.host, t.port), (Host::Ip(ip("::1")), 8080));
        let t = parse_url("  http://h/a\tb\n  ").expect("trimmed, tab/newline removed");
        assert_eq!(t.path_and_query, "/ab");
        let t = parse_url("http:\\\\h\\a\\b?x=\\").expect("backslashes are slashes");
        assert_eq!(
            (t.host, t.path_and_query.as_str()),
            (Host::Domain("h".into()), "/a/b?x=\\")
        );
        let t = parse_url("http://h/a b/ü?q=a b&n='x'").expect("encoded");
        assert_eq!(t.path_and_query, "/a%20b/%C3%BC?q=a%20b&n=%27x%27");
        let t = parse_url("http://h/%41?%42").expect("existing escapes kept");
        assert_eq!(t.path_and_query, "/%41?%42");
        let t = parse_url("http://1.2.3.foo/").expect("not ending in a number: a domain");
        assert_eq!(t.host, Host::Domain("1.2.3.foo".into()));
        assert_eq!(Host::Ip(ip("::1")).to_string(), "[::1]");
    }

    #[test]
    fn cidr_parse_display_contains() {
        for text in [
            "10.0.0.0/33",
            "::/129",
            "abc",
            "",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0.0/0008",
            "10.0.0.0/8/8",
            "10.0.0.1/8",
            "fe80::1/10",
            "10.0.0.0 /8",
            "1.2.3/24",
            "::1%lo/128",
            "/8",
        ] {
            assert!(Cidr::parse(text).is_err(), "{text:?} must be refused");
        }
        assert!(
            Cidr::parse("10.0.0.1/8")
                .expect_err("host bits")
                .contains("10.0.0.0/8")
        );
        for text in [
            "127.0.0.0/8",
            "10.0.0.0/8",
            "0.0.0.0/0",
            "192.168.1.1/32",
            "::1/128",
            "fc00::/7",
            "::/0",
            "2001:db8::/32",
            "100.64.0.0/10",
        ] {
            assert_eq!(cidr(text).to_string(), text);
            assert_eq!(cidr(&cidr(text).to_string()), cidr(text));
        }
        assert_eq!(cidr(" 8.8.8.8 ").to_string(), "8.8.8.8/32");
        assert_eq!(cidr("::1").to_string(), "::1/128");
        assert_eq!(cidr("FE80::/10").to_string(), "fe80::/10");
        let net = cidr("172.16.0.0/12");
        assert_eq!((net.network(), net.prefix_len()), (ip("172.16.0.0"), 12));
        assert!(net.contains(ip("172.31.255.255")));
        assert!(!net.contains(ip("172.32.0.0")));
        assert!(!net.contains(ip("::ffff:172.16.0.1")), "families never mix");
        assert!(cidr("0.0.0.0/0").contains(ip("255.255.255.255")));
        assert!(!cidr("0.0.0.0/0").contains(ip("::")));
        assert!(cidr("::/0").contains(ip("ffff::1")));
        assert!(cidr("fe80::/10").contains(ip("febf::1")));
        assert!(!cidr("fe80::/10").contains(ip("fec0::1")));
    }

    #[test]
    fn deny_table_is_canonical() {
        for (net, reason) in DENIED {
            assert_eq!(
                masked(net.network(), net.prefix_len()),
                net.network(),
                "{net}"
            );
            assert!(net.prefix_len() <= max_prefix(net.network()), "{net}");
            assert_eq!(Cidr::parse(&net.to_string()), Ok(*net), "{net}");
            assert!(!reason.is_empty());
        }
        let listed: Vec<String> = DENIED.iter().map(|(net, _)| net.to_string()).collect();
        assert_eq!(
            listed,
            [
                "0.0.0.0/8",
                "127.0.0.0/8",
                "10.0.0.0/8",
                "100.64.0.0/10",
                "169.254.0.0/16",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "224.0.0.0/3",
                "::/128",
                "::1/128",
                "fc00::/7",
                "fe80::/10",
                "ff00::/8",
            ]
        );
    }

    #[test]
    fn ipv4_parser_matches_whatwg_examples() {
        let cases = [
            ("0x7f.1", Some("127.0.0.1")),
            ("0x.0x.0", Some("0.0.0.0")),
            ("1.2.3.4.", Some("1.2.3.4")),
            ("4294967295", Some("255.255.255.255")),
            ("0xffffffff", Some("255.255.255.255")),
            ("037777777777", Some("255.255.255.255")),
            ("1.16777215", Some("1.255.255.255")),
            ("1.2.65535", Some("1.2.255.255")),
            ("00000000000000000000000000000000001", Some("0.0.0.1")),
            ("1.16777216", None),
            ("08", None),
            ("99999999999999999999999999999999999", None),
        ];
        for (text, expected) in cases {
            assert!(ends_in_number(text), "{text}");
            assert_eq!(
                parse_ipv4(text),
                expected.map(|e| e.parse().expect("addr")),
                "{text}"
            );
        }
        for text in [
            "example.com",
            "1.2.3.x",
            "a.0xg",
            ".",
            "x.",
            "1.2.3.0x1g",
            "1.2.3.4..",
        ] {
            assert!(!ends_in_number(text), "{text}");
        }
    }

    /// Odd and hostile inputs must produce `Ok` or `Err`, never a panic.
    #[test]
    fn no_panics_on_odd_input() {
        let long = "9".repeat(100_000);
        let long_host = format!("http://{}/", "a.".repeat(50_000));
        let long_port = format!("http://h:{long}/");
        let long_ip = format!("http://{long}/");
        let long_v6 = format!("http://[{}]/", "1:".repeat(10_000));
        let long_pct = format!("http://{}/", "%".repeat(10_000));
        let fixed = [
            "",
            " ",
            "\0",
            "http",
            "http:",
            "http:/",
            "http://",
            "http://[",
            "http://]",
            "http://[]",
            "http://[:]",
            "http://[::",
            "http://:80",
            "http://:",
            "http://@",
            "http://%",
            "http://%%",
            "http://%2",
            "http://%zz",
            "http://%ff",
            "http://.",
            "http://..",
            "http://...",
            "http://0x",
            "http://0.",
            "http://.0",
            "http://0..",
            "http://?",
            "http://#",
            "http://h:",
            "http://h::",
            "http://h:99999999999999999999",
            "https://[::ffff:]",
            "http://ü",
            "ü://x",
            "http://\u{1F600}/",
            "http://h/\u{0}",
            ":",
            "::",
            ":///",
            "a:",
            "\u{7f}",
            "http://0x0x0x",
            "http://1.2.3.4.5.6.7.8.9",
        ];
        let mut inputs: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
        inputs.extend([
            long.clone(),
            long_host,
            long_port,
            long_ip,
            long_v6,
            long_pct,
        ]);
        // Every string of up to 3 characters over a hostile alphabet.
        let alphabet = [
            '0', '9', 'x', '.', ':', '[', ']', '%', '@', '/', '\\', '?', '#', 'ü', ' ',
        ];
        let mut suffixes = vec![String::new()];
        for _ in 0..3 {
            let next: Vec<String> = suffixes
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            inputs.extend(next.iter().map(|s| format!("http://{s}")));
            suffixes = next;
        }
        for input in &inputs {
            if let Ok(target) = parse_url(input) {
                assert!(target.port != 0, "{input:?}");
                assert!(target.path_and_query.starts_with('/'), "{input:?}");
                assert!(
                    target.path_and_query.bytes().all(|b| b > b' ' && b < 0x7f),
                    "{input:?}"
                );
                if let Host::Ip(addr) = target.host {
                    let _ = refused(addr, &[]);
                }
            }
            let _ = Cidr::parse(input);
            let _ = check_all(input, &[], &[]);
        }
        for text in [
            long.as_str(),
            "/",
            "1.2.3.4/999",
            "::/",
            "/0",
            "1.2.3.4/ 8",
            "[::1]/128",
        ] {
            assert!(Cidr::parse(text).is_err(), "{text:?}");
        }
    }
}
