"""Realistic French and English questions about the Debian handbook, shared by the speed
benchmarks (a light module: the query workers import it without the indexer)."""

QUESTIONS = [
    "Comment configurer un miroir APT ?",
    "How do I set up a firewall with nftables?",
    "Qu'est-ce que LVM et comment agrandir un volume ?",
    "How are Debian releases named?",
    "Comment installer un serveur LDAP ?",
    "backup with rsync",
    "sauvegarde des données",
    "How to compile a kernel?",
    "sources.list security updates",
    "Quel est le rôle de debconf ?",
]
