"""Names of the seed content the tests read (cms/fixtures/amur_altai.json)."""

NEWS_SLUG = (
    "amurskaya-oblast-i-altayskiy-kray-opredelili-perspektivnye-napravleniya-sotrudnichestva"
    "-do-2025-goda"
)
NEWS_TITLE = (
    "Амурская область и Алтайский край определили перспективные направления сотрудничества"
    " до 2025 года"
)
DRAFT_NEWS_SLUG = "chernovik-itogi-b2b-peregovorov-amurskikh-i-altayskikh-predpriyatiy"
SCHEDULED_NEWS_SLUG = (
    "zaplanirovano-amurskaya-oblast-i-altayskiy-kray-podvedut-itogi-plana-meropriyatiy"
)
ARCHIVED_NEWS_SLUG = "arkhiv-delegatsiya-altayskogo-kraya-posetit-amurskuyu-oblast"
HIDDEN_NEWS_SLUGS = (DRAFT_NEWS_SLUG, SCHEDULED_NEWS_SLUG, ARCHIVED_NEWS_SLUG)

AGREEMENT_SLUG = "soglashenie-amurskaya-oblast-altayskiy-kray"
DRAFT_AGREEMENT_SLUG = "chernovik-soglashenie-o-sotrudnichestve-v-sfere-turizma"
PLAN_SLUG = "plan-meropriyatiy-2023-2025-amurskaya-oblast-altayskiy-kray"
PLAN_OF_DRAFT_AGREEMENT_SLUG = "chernovik-plan-meropriyatiy-po-soglasheniyu-o-turizme"

VISITED_ENTERPRISES = [
    "Дальневосточный государственный аграрный университет",
    "Центр цифрового образования детей «IT-куб»",
    "Судостроительный завод им. Октябрьской революции",
    "Благовещенский ремонтно-механический завод",
    "Космодром «Восточный»",
    "Амурский ГХК",
    "ТЛТ КАНИКУРГАН",
    "МЭЗ «Амурский»",
    "Животноводческий комплекс «Луч»",
    "Семенной завод «Соя-АНК»",
    "Сыроварня Агрипины",
    "Производственный комплекс «Серышевский»",
    "Кондитерская фабрика «Зея»",
]
