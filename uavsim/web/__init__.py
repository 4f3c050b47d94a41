"""The operators' and analysts' workbench: ``uavsim serve``, a web app over the flight store.

:func:`uavsim.web.app.create_app` builds the application; view models live in :mod:`uavsim.web.views` and
:mod:`uavsim.web.flight`, figures in :mod:`uavsim.web.plots`, users and sessions in :mod:`uavsim.web.auth`.
"""
