from truewheel.cli import main

raise SystemExit(main())
