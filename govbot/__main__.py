from govbot.cli import main

raise SystemExit(main())
