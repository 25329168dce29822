"""The readiness rules that belong to no IdP: the client secret and state (``secrets``), the customers API
(``api``). Each IdP's rules live in its package (``components/idps/<idp>/rules.py``); the checklist and its order
are ``readiness/checklist.py``."""
